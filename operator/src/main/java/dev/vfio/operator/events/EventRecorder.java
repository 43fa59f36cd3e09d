package dev.vfio.operator.events;

import dev.vfio.operator.names.ObjectNames;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.EventList;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits core/v1 Events about our resources, as {@code kubectl describe} shows them. An event that
 * happens again to the same object, with the same type, reason and message, is one Event counted up
 * ("x3 over 2m"), not another object: its name is derived from what it says.
 */
public final class EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  private static final String COMPONENT = "vfio-operator";
  private final KubernetesClient client;
  private final Clock clock;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  /** Records {@code notice} about {@code about}, or counts it up if it was recorded before. */
  public void record(HasMetadata about, Notice notice) {
    String type = notice.type().name();
    String reason = notice.reason();
    String message = notice.message();
    String namespace = about.getMetadata().getNamespace();
    // The API server keeps Event times to the second.
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    // The UID, not the name: a deleted object's successor of the same name starts its own count.
    String name =
        ObjectNames.event(
            about.getMetadata().getName(),
            String.join("\n", about.getMetadata().getUid(), type, reason, message));
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(about.getApiVersion())
                    .withKind(about.getKind())
                    .withName(about.getMetadata().getName())
                    .withNamespace(namespace)
                    .withUid(about.getMetadata().getUid())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    var events = client.v1().events().inNamespace(namespace);
    try {
      if (!created(events, event)) {
        countRepeat(events, name, now);
      }
    } catch (KubernetesClientException e) {
      // An Event is a courtesy to the user; losing one must not fail the reconciliation.
      LOG.warn(
          "could not record event {} for {}: {}",
          reason,
          about.getMetadata().getName(),
          e.getMessage());
    }
  }

  /** False if an Event of that name exists already. */
  private static boolean created(
      NonNamespaceOperation<Event, EventList, Resource<Event>> events, Event event) {
    try {
      events.resource(event).create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return false;
      }
      throw e;
    }
  }

  private static void countRepeat(
      NonNamespaceOperation<Event, EventList, Resource<Event>> events, String name, String now) {
    Event existing = events.withName(name).get();
    // Null if it expired between the two requests: the next repeat creates it afresh.
    if (existing != null) {
      existing.setCount(existing.getCount() == null ? 2 : existing.getCount() + 1);
      existing.setLastTimestamp(now);
      // With the resourceVersion just read: of two concurrent repeats, one fails rather than both
      // writing the same count.
      events.resource(existing).update();
    }
  }
}
