package dev.vfio.api.v1alpha1;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A list field whose items form a set: its schema says {@code x-kubernetes-list-type: set}, so the
 * API server refuses an item listed twice ("Duplicate value") and server-side apply merges the list
 * as a set. The Fabric8 generator writes no list types; the build adds this one to the manifests it
 * ships (CrdManifests, held to the model by the drift test).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface ListTypeSet {}
