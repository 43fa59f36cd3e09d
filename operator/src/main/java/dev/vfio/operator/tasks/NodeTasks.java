package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.operator.names.ObjectNames;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.HttpURLConnection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the operator hands work to agents: creates {@link VfioNodeTask}s with deterministic names, so
 * that an operator restarted at any moment finds the task it already created instead of creating a
 * second one, and cancels them through their spec. Tasks are read from the {@link TaskCache} only,
 * never with a request.
 *
 * <p>A task names the object it works for in one way: the label {@link
 * VfioNodeTask#PARENT_UID_LABEL} with that object's UID, by which the operator maps task events to
 * their parent and people select the tasks of one object with kubectl
 * (docs/decisions/0006-task-parent.md).
 */
public final class NodeTasks {
  private static final int MAX_LABEL_VALUE = 63;

  private final KubernetesClient client;
  private final TaskCache cache;

  public NodeTasks(KubernetesClient client, TaskCache cache) {
    this.client = client;
    this.cache = cache;
  }

  /**
   * The name of the task doing {@code role} for {@code parent}: {@code <parent>-<role>}, hashed if
   * too long.
   */
  public static String name(HasMetadata parent, String role) {
    return ObjectNames.task(parent.getMetadata().getName(), role);
  }

  /** The task doing {@code role} for {@code parent}, if there is one. */
  public Optional<VfioNodeTask> find(HasMetadata parent, String role) {
    return cache.get(parent.getMetadata().getNamespace(), name(parent, role));
  }

  /**
   * Creates the task, or returns the one that already exists under that name. With {@code owned},
   * the parent owns it (garbage collected with it); tasks created while the parent is being deleted
   * are not owned and are deleted explicitly. {@code annotations} are for the operator to read back
   * later.
   */
  public VfioNodeTask create(
      HasMetadata parent,
      String role,
      VfioNodeTaskSpec spec,
      boolean owned,
      Map<String, String> annotations) {
    var metadata =
        new ObjectMetaBuilder()
            .withName(name(parent, role))
            .withNamespace(parent.getMetadata().getNamespace())
            .withLabels(labels(parent, spec))
            .withAnnotations(annotations.isEmpty() ? null : annotations);
    if (owned) {
      metadata.withOwnerReferences(
          new OwnerReferenceBuilder()
              .withApiVersion(parent.getApiVersion())
              .withKind(parent.getKind())
              .withName(parent.getMetadata().getName())
              .withUid(parent.getMetadata().getUid())
              .withController(true)
              .withBlockOwnerDeletion(true)
              .build());
    }
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(metadata.build());
    task.setSpec(spec);
    VfioNodeTask created;
    try {
      created = client.resource(task).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      created =
          client
              .resources(VfioNodeTask.class)
              .inNamespace(parent.getMetadata().getNamespace())
              .withName(task.getMetadata().getName())
              .get();
    }
    if (created != null) {
      cache.created(created);
    }
    return created;
  }

  /**
   * The parent's UID, and the node for people filtering with kubectl. A node name may be 253
   * characters and a label value only 63: a longer one is left out rather than cut, since a cut
   * name would name another node; {@code --field-selector spec.nodeName=} finds those tasks.
   */
  static Map<String, String> labels(HasMetadata parent, VfioNodeTaskSpec spec) {
    Map<String, String> labels = new HashMap<>();
    labels.put(VfioNodeTask.PARENT_UID_LABEL, parent.getMetadata().getUid());
    if (spec.getNodeName().length() <= MAX_LABEL_VALUE) {
      labels.put(VfioNodeTask.NODE_LABEL, spec.getNodeName());
    }
    return labels;
  }

  /** Carries out what a plan decided about the tasks of {@code parent}. */
  public void apply(HasMetadata parent, TaskAction action) {
    if (action instanceof TaskAction.Create create) {
      create(parent, create.role(), create.spec(), create.owned(), create.annotations());
    } else if (action instanceof TaskAction.Cancel cancel) {
      cancel(cancel.task());
    } else if (action instanceof TaskAction.Commit commit) {
      commit(commit.task());
    } else if (action instanceof TaskAction.Delete delete) {
      delete(parent.getMetadata().getNamespace(), delete.name());
    }
  }

  /** Asks the agent to stop the task and roll its devices back. */
  public void cancel(VfioNodeTask task) {
    if (Boolean.TRUE.equals(task.getSpec().getCancelRequested()) || isTerminal(task)) {
      return;
    }
    // Through the task in hand: withName() would read it from the server first.
    client
        .resource(task)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"cancelRequested\":true}}");
  }

  /**
   * Writes {@code spec.switchover: Commit} with the resourceVersion the task was seen at as a
   * precondition, the operator's half of the two-phase switchover (docs/reliability.md): an agent
   * that ended the task in between makes it fail with 409 Conflict, and the task keeps the ending
   * its agent acts on. Returns whether the Commit was written (or was already there).
   */
  public boolean commit(VfioNodeTask task) {
    if (task.getSpec().committed()) {
      return true;
    }
    List<Map<String, Object>> body =
        List.of(
            Map.of(
                "op",
                "add",
                "path",
                "/metadata/resourceVersion",
                "value",
                task.getMetadata().getResourceVersion()),
            Map.of("op", "add", "path", "/spec/switchover", "value", "Commit"));
    try {
      // A cache still showing the task uncommitted only costs the next pass a 409.
      client.resource(task).patch(PatchContext.of(PatchType.JSON), Serialization.asJson(body));
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  public void delete(String namespace, String name) {
    client.resources(VfioNodeTask.class).inNamespace(namespace).withName(name).delete();
  }

  public static boolean isTerminal(VfioNodeTask task) {
    TaskPhase phase = task.getStatus() == null ? null : task.getStatus().getPhase();
    return phase == TaskPhase.Succeeded
        || phase == TaskPhase.Failed
        || phase == TaskPhase.Cancelled;
  }

  /**
   * The reason the task's agent reported, if any. One this operator does not know (written by a
   * newer agent) reads as {@link Reason#UNRECOGNIZED}, and {@link #message} names it.
   */
  public static Optional<Reason> reason(VfioNodeTask task) {
    String wire = task.getStatus() == null ? null : task.getStatus().getReason();
    return wire == null
        ? Optional.empty()
        : Optional.of(Reason.fromWire(wire).orElse(Reason.UNRECOGNIZED));
  }

  /** The agent's message, led by the reason it reported if this operator does not know it. */
  public static String message(VfioNodeTask task) {
    if (task.getStatus() == null) {
      return null;
    }
    String message = task.getStatus().getMessage();
    String wire = task.getStatus().getReason();
    if (wire == null || Reason.fromWire(wire).isPresent()) {
      return message;
    }
    return "the agent reported reason "
        + wire
        + ", which this operator does not know"
        + (message == null ? "" : ": " + message);
  }

  public static TaskPhase phase(VfioNodeTask task) {
    return task.getStatus() == null || task.getStatus().getPhase() == null
        ? TaskPhase.Pending
        : task.getStatus().getPhase();
  }
}
