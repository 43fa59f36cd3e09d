package dev.vfio.operator.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.operator.names.ValidNames;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {
  private static final Instant FIRST = Instant.parse("2026-12-01T10:00:00Z");
  private static final Instant LATER = Instant.parse("2026-12-01T10:05:00Z");
  KubernetesClient client;

  @Test
  void eventsAboutObjectsWithTheLongestNamesHaveValidNames() {
    // The cut keeps 236 characters: a '.' or a '-' as the last of them, and a name of digits only.
    for (String name :
        List.of(
            ValidNames.withAt(ValidNames.MAX, 235, "."),
            ValidNames.withAt(ValidNames.MAX, 235, "-"),
            ValidNames.withAt(ValidNames.MAX, 234, "--"),
            "1234567890".repeat(25) + "123")) {
      recorderAt(FIRST)
          .record(
              snapshot(name, "uid-" + name.hashCode()),
              Notice.warning("Timeout", "not Ready within 10m"));
    }

    List<Event> events = events();
    assertEquals(4, events.size());
    for (Event event : events) {
      assertTrue(
          ValidNames.isSubdomain(event.getMetadata().getName()), event.getMetadata().getName());
    }
  }

  @Test
  void anEventThatHappensAgainIsCountedOnTheFirstOne() {
    VfioSnapshot snapshot = snapshot("nightly", "uid-1");

    recorderAt(FIRST)
        .record(
            snapshot,
            Notice.warning("AgentNotReady", "no ready agent to delete the blobs; waiting"));
    recorderAt(LATER)
        .record(
            snapshot,
            Notice.warning("AgentNotReady", "no ready agent to delete the blobs; waiting"));

    List<Event> events = events();
    assertEquals(1, events.size());
    Event event = events.get(0);
    assertEquals(2, event.getCount());
    assertEquals(FIRST.toString(), event.getFirstTimestamp());
    assertEquals(LATER.toString(), event.getLastTimestamp());
    assertEquals("uid-1", event.getInvolvedObject().getUid());
  }

  @Test
  void eventsThatSayDifferentThingsOrConcernAnotherObjectAreSeparate() {
    recorderAt(FIRST)
        .record(snapshot("nightly", "uid-1"), Notice.normal("Started", "saving 1 device(s)"));
    recorderAt(FIRST)
        .record(snapshot("nightly", "uid-1"), Notice.normal("Started", "saving 2 device(s)"));
    recorderAt(FIRST)
        .record(snapshot("nightly", "uid-1"), Notice.warning("Started", "saving 2 device(s)"));
    // Deleted and created again under the same name: a new object with its own events.
    recorderAt(FIRST)
        .record(snapshot("nightly", "uid-2"), Notice.normal("Started", "saving 1 device(s)"));

    List<Event> events = events();
    assertEquals(4, events.size());
    events.forEach(event -> assertEquals(1, event.getCount()));
  }

  private EventRecorder recorderAt(Instant now) {
    return new EventRecorder(client, Clock.fixed(now, ZoneOffset.UTC));
  }

  private List<Event> events() {
    return client.v1().events().inNamespace("default").list().getItems();
  }

  private static VfioSnapshot snapshot(String name, String uid) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder().withName(name).withNamespace("default").withUid(uid).build());
    return snapshot;
  }
}
