package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import java.util.Map;
import java.util.Set;

/**
 * Maps a task back to the resource it works for. Not through ownerReferences alone: a
 * DeleteBlobs task created while its snapshot is being deleted has no owner.
 */
public final class TaskParents {
  /** Annotation {@code <Kind>/<name>} of the parent, in the task's namespace. */
  public static final String PARENT_ANNOTATION = "vfio.dev/parent";

  private TaskParents() {}

  public static String annotationValue(HasMetadata parent) {
    return parent.getKind() + "/" + parent.getMetadata().getName();
  }

  public static <P extends HasMetadata> SecondaryToPrimaryMapper<VfioNodeTask> mapperFor(Class<P> parentType) {
    String kind = HasMetadata.getKind(parentType);
    return task -> {
      Map<String, String> annotations = task.getMetadata().getAnnotations();
      String parent = annotations == null ? null : annotations.get(PARENT_ANNOTATION);
      if (parent == null || !parent.startsWith(kind + "/")) {
        return Set.of();
      }
      return Set.of(new ResourceID(parent.substring(kind.length() + 1), task.getMetadata().getNamespace()));
    };
  }
}
