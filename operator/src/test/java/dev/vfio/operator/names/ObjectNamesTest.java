package dev.vfio.operator.names;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ObjectNamesTest {
  /** The roles the reconcilers give their tasks; the longest, delete-blobs, is cut the most. */
  private static final List<String> ROLES =
      List.of("save", "delete-blobs", "load", "receive", "send", "resume", "cleanup");

  @Test
  void everyValidParentNameGivesEveryRoleAValidTaskName() {
    ValidNames.awkward()
        .forEach(
            parent ->
                ROLES.forEach(
                    role -> {
                      String task = ObjectNames.task(parent, role);
                      assertTrue(
                          ValidNames.isSubdomain(task),
                          () ->
                              "task "
                                  + task
                                  + " ("
                                  + task.length()
                                  + " chars) of "
                                  + role
                                  + " for "
                                  + parent
                                  + " ("
                                  + parent.length()
                                  + " chars)");
                    }));
  }

  @Test
  void aDotWhereALongNameIsCutStaysOutOfTheTaskName() {
    // The name a real API server refused with 422: 241 chars, '.' at index 228, the last kept.
    String parent = ValidNames.withAt(241, 228, ".");

    String task = ObjectNames.task(parent, "delete-blobs");

    assertTrue(ValidNames.isSubdomain(task), task);
    assertTrue(task.startsWith(parent.substring(0, 228) + "-"), task);
    assertTrue(task.endsWith("-delete-blobs"), task);
  }

  @Test
  void aNameShortEnoughKeepsTheTaskNameParentDashRole() {
    assertEquals("nightly-2025.03-save", ObjectNames.task("nightly-2025.03", "save"));
    String longest = ValidNames.withAt(ValidNames.MAX - "-delete-blobs".length(), 100, ".");
    assertEquals(longest + "-delete-blobs", ObjectNames.task(longest, "delete-blobs"));
  }

  @Test
  void aLongNameCutAtAnAlphanumericKeepsTheTaskNameEarlierVersionsGaveIt() {
    String parent = "a".repeat(ValidNames.MAX);

    assertEquals("a".repeat(237) + "-71842e9f3b-save", ObjectNames.task(parent, "save"));
    assertEquals(
        "a".repeat(229) + "-b577570c00-delete-blobs", ObjectNames.task(parent, "delete-blobs"));
  }

  @Test
  void distinctParentsAndRolesGetDistinctTaskNames() {
    // Long names alike up to and beyond every cut, differing in one character only.
    List<String> parents = new ArrayList<>();
    for (int at = 200; at < ValidNames.MAX - 2; at++) {
      for (String separator : List.of(".", "-", "x")) {
        parents.add(ValidNames.withAt(ValidNames.MAX, at, separator));
        parents.add(ValidNames.withAt(ValidNames.MAX - 1, at, separator));
      }
    }
    Set<String> tasks = new HashSet<>();
    for (String parent : parents) {
      for (String role : ROLES) {
        assertTrue(tasks.add(ObjectNames.task(parent, role)), parent + " " + role);
      }
    }
  }

  @Test
  void everyValidObjectNameGivesAValidEventName() {
    ValidNames.awkward()
        .forEach(
            object -> {
              String event =
                  ObjectNames.event(object, "uid\nWarning\nTimeout\nnot Ready within 10m");
              assertTrue(
                  ValidNames.isSubdomain(event),
                  () ->
                      "event "
                          + event
                          + " ("
                          + event.length()
                          + " chars) about "
                          + object
                          + " ("
                          + object.length()
                          + " chars)");
            });
  }

  @Test
  void anEventIsNamedAfterItsObjectAndTheSameOccurrenceOnlyGetsTheSameName() {
    String first = ObjectNames.event("nightly", "uid-1\nNormal\nStarted\nsaving 1 device(s)");

    assertTrue(first.startsWith("nightly."), first);
    assertEquals(first, ObjectNames.event("nightly", "uid-1\nNormal\nStarted\nsaving 1 device(s)"));
    assertNotEquals(
        first, ObjectNames.event("nightly", "uid-1\nNormal\nStarted\nsaving 2 device(s)"));
    assertNotEquals(
        first, ObjectNames.event("nightly", "uid-2\nNormal\nStarted\nsaving 1 device(s)"));
  }
}
