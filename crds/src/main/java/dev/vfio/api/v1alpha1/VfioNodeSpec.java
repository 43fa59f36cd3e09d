package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Empty on purpose: a node has no desired state, its agent observes everything and reports it in
 * {@link VfioNodeStatus}. The class exists so the schema can document that (a {@code Void} spec
 * gets no description from the CRD generator).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioNodeSpec extends SchemaObject {}
