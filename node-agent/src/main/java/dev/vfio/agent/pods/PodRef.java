package dev.vfio.agent.pods;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;

/** The pod a task acts on, as the agent needs it: identity plus annotations. */
public record PodRef(String namespace, String name, String uid, Map<String, String> annotations) {
  public static PodRef of(Pod pod) {
    var metadata = pod.getMetadata();
    return new PodRef(
        metadata.getNamespace(),
        metadata.getName(),
        metadata.getUid(),
        metadata.getAnnotations() == null ? Map.of() : Map.copyOf(metadata.getAnnotations()));
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
