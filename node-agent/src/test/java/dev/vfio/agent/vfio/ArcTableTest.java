package dev.vfio.agent.vfio;

import static dev.vfio.agent.vfio.MigrationState.ERROR;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ArcTableTest {
  static final MigrationFlags STOP_COPY_ONLY = new MigrationFlags(MigrationFlags.STOP_COPY);
  static final MigrationFlags WITH_P2P =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P);
  static final MigrationFlags WITH_PRE_COPY =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.PRE_COPY);
  static final MigrationFlags ALL =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY);

  static Stream<MigrationFlags> allFlagCombinations() {
    return Stream.of(STOP_COPY_ONLY, WITH_P2P, WITH_PRE_COPY, ALL);
  }

  /** Short names as the reference table writes them: R, STOP, SC, RES, R_P2P, PC, PC_P2P. */
  static MigrationState state(String shortName) {
    return switch (shortName) {
      case "R" -> RUNNING;
      case "STOP" -> STOP;
      case "SC" -> STOP_COPY;
      case "RES" -> RESUMING;
      case "R_P2P" -> RUNNING_P2P;
      case "PC" -> PRE_COPY;
      case "PC_P2P" -> PRE_COPY_P2P;
      default -> throw new IllegalArgumentException(shortName);
    };
  }

  static MigrationFlags flags(String name) {
    return switch (name) {
      case "SC" -> STOP_COPY_ONLY;
      case "P2P" -> WITH_P2P;
      case "PC" -> WITH_PRE_COPY;
      case "ALL" -> ALL;
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** "R>STOP>SC" as the full walk, or "EINVAL". */
  static Optional<List<MigrationState>> walk(String text) {
    if (text.equals("EINVAL")) {
      return Optional.empty();
    }
    List<MigrationState> states = Arrays.stream(text.split(">")).map(ArcTableTest::state).toList();
    return Optional.of(states.subList(1, states.size()));
  }

  // Every cell of the paths table in §2 of docs/vfio-migration-v2.md, one line per cell.
  @ParameterizedTest(name = "{1} -> {2} with {0}: {3}")
  @CsvSource({
    "SC,  R,   SC,  R>STOP>SC",
    "P2P, R,   SC,  R>R_P2P>STOP>SC",
    "PC,  R,   SC,  R>STOP>SC",
    "ALL, R,   SC,  R>R_P2P>STOP>SC",
    "SC,  R,   RES, R>STOP>RES",
    "P2P, R,   RES, R>R_P2P>STOP>RES",
    "PC,  R,   RES, R>STOP>RES",
    "ALL, R,   RES, R>R_P2P>STOP>RES",
    "SC,  RES, R,   RES>STOP>R",
    "P2P, RES, R,   RES>STOP>R_P2P>R",
    "PC,  RES, R,   RES>STOP>R",
    "ALL, RES, R,   RES>STOP>R_P2P>R",
    "SC,  PC,  SC,  EINVAL",
    "P2P, PC,  SC,  EINVAL",
    "PC,  PC,  SC,  PC>SC",
    "ALL, PC,  SC,  PC>PC_P2P>SC",
    "SC,  SC,  R,   SC>STOP>R",
    "P2P, SC,  R,   SC>STOP>R_P2P>R",
    "PC,  SC,  R,   SC>STOP>R",
    "ALL, SC,  R,   SC>STOP>R_P2P>R",
    "SC,  PC,  RES, EINVAL",
    "P2P, PC,  RES, EINVAL",
    "PC,  PC,  RES, PC>R>STOP>RES",
    "ALL, PC,  RES, PC>R>R_P2P>STOP>RES",
  })
  void walksEveryRowOfTheReferencePathsTable(
      String flags, String from, String to, String expected) {
    assertEquals(walk(expected), ArcTable.path(state(from), state(to), flags(flags)));
  }

  // The combination walks the kernel's own comment lists for a device with every optional feature.
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "PC>PC_P2P>SC",
    "PC>R>R_P2P",
    "PC>R>R_P2P>STOP",
    "PC>R>R_P2P>STOP>RES",
    "PC_P2P>R_P2P>R",
    "PC_P2P>R_P2P>STOP",
    "PC_P2P>R_P2P>STOP>RES",
    "RES>STOP>R_P2P",
    "RES>STOP>R_P2P>PC_P2P",
    "RES>STOP>R_P2P>R",
    "RES>STOP>R_P2P>R>PC",
    "RES>STOP>SC",
    "R>R_P2P>PC_P2P",
    "R>R_P2P>STOP",
    "R>R_P2P>STOP>RES",
    "R>R_P2P>STOP>SC",
    "R_P2P>R>PC",
    "R_P2P>STOP>RES",
    "R_P2P>STOP>SC",
    "STOP>R_P2P>PC_P2P",
    "STOP>R_P2P>R",
    "STOP>R_P2P>R>PC",
    "SC>STOP>RES",
    "SC>STOP>R_P2P",
    "SC>STOP>R_P2P>R",
  })
  void walksTheKernelsCombinationListWithAllFeatures(String walk) {
    String[] names = walk.split(">");
    MigrationState from = state(names[0]);
    MigrationState to = state(names[names.length - 1]);
    assertEquals(walk(walk), ArcTable.path(from, to, ALL));
  }

  @ParameterizedTest
  @MethodSource("allFlagCombinations")
  void refusesStopCopyToPreCopyWhateverTheFlags(MigrationFlags flags) {
    assertEquals(Optional.empty(), ArcTable.next(STOP_COPY, PRE_COPY, flags));
    assertEquals(Optional.empty(), ArcTable.next(STOP_COPY, PRE_COPY_P2P, flags));
  }

  @ParameterizedTest
  @MethodSource("allFlagCombinations")
  void refusesErrorAsTargetAndAnyRequestFromError(MigrationFlags flags) {
    for (MigrationState state : MigrationState.values()) {
      assertEquals(Optional.empty(), ArcTable.next(state, ERROR, flags), state + " -> ERROR");
      assertEquals(Optional.empty(), ArcTable.next(ERROR, state, flags), "ERROR -> " + state);
    }
  }

  @Test
  void refusesStatesTheDeviceDoesNotAdvertise() {
    assertEquals(Optional.empty(), ArcTable.next(RUNNING, RUNNING_P2P, STOP_COPY_ONLY));
    assertEquals(Optional.empty(), ArcTable.next(RUNNING, PRE_COPY, WITH_P2P));
    assertEquals(Optional.empty(), ArcTable.next(RUNNING_P2P, RUNNING, WITH_PRE_COPY));
    assertEquals(Optional.empty(), ArcTable.next(RUNNING, PRE_COPY_P2P, WITH_PRE_COPY));
    assertEquals(Optional.empty(), ArcTable.next(RUNNING, STOP, MigrationFlags.NONE));
  }

  @ParameterizedTest
  @MethodSource("allFlagCombinations")
  void reRequestingTheCurrentStateIsANoOp(MigrationFlags flags) {
    for (MigrationState state : supportedStates(flags)) {
      assertEquals(Optional.of(state), ArcTable.next(state, state, flags));
      assertEquals(Optional.of(List.of()), ArcTable.path(state, state, flags));
    }
  }

  static Stream<Arguments> everySupportedRequest() {
    return allFlagCombinations()
        .flatMap(
            flags ->
                supportedStates(flags).stream()
                    .flatMap(
                        from ->
                            supportedStates(flags).stream()
                                .filter(
                                    to ->
                                        !(from == STOP_COPY
                                            && (to == PRE_COPY || to == PRE_COPY_P2P)))
                                .map(to -> Arguments.of(flags.names(), from, to))));
  }

  /**
   * The properties the kernel comment promises: every request but the blocked ones reaches its
   * target, one arc at a time, using only arcs the driver implements for its flags, and never
   * enters a session state (a saving state or RESUMING) on the way.
   */
  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @MethodSource("everySupportedRequest")
  void walksOnlyImplementedArcsAndNeverPassesThroughSessionStates(
      List<String> flagNames, MigrationState from, MigrationState to) {
    MigrationFlags flags = MigrationFlags.fromNames(flagNames);
    List<MigrationState> hops = ArcTable.path(from, to, flags).orElseThrow();
    Set<String> implemented = implementedArcs(flags);
    MigrationState at = from;
    for (MigrationState hop : hops) {
      assertTrue(implemented.contains(at + ">" + hop), "arc " + at + " -> " + hop);
      at = hop;
    }
    assertEquals(to, at);
    // Staying inside one saving session (PRE_COPY -> PRE_COPY_P2P -> STOP_COPY) is the only way
    // a walk may pass a session state; entering one on the way would open a session mid-walk.
    for (MigrationState intermediate : hops.subList(0, Math.max(0, hops.size() - 1))) {
      boolean withinSavingSession = from.isSaving() && intermediate.isSaving();
      assertFalse(
          (intermediate.isSaving() || intermediate == RESUMING) && !withinSavingSession,
          "passes through " + intermediate);
    }
  }

  @Test
  void exactlyFourArcsOpenADataFd() {
    Set<String> opening = arcsWhere(ArcTable::opensDataFd);
    assertEquals(
        Set.of("RUNNING>PRE_COPY", "RUNNING_P2P>PRE_COPY_P2P", "STOP>STOP_COPY", "STOP>RESUMING"),
        opening);
  }

  @Test
  void exactlyFourArcsEndASession() {
    Set<String> ending = arcsWhere(ArcTable::endsSession);
    assertEquals(
        Set.of("STOP_COPY>STOP", "RESUMING>STOP", "PRE_COPY>RUNNING", "PRE_COPY_P2P>RUNNING_P2P"),
        ending);
  }

  @Test
  void sharedSavingSessionContinuesIntoStopCopy() {
    assertFalse(ArcTable.opensDataFd(PRE_COPY_P2P, STOP_COPY));
    assertFalse(ArcTable.endsSession(PRE_COPY_P2P, STOP_COPY));
    assertFalse(ArcTable.opensDataFd(PRE_COPY, STOP_COPY));
    assertFalse(ArcTable.endsSession(PRE_COPY, PRE_COPY_P2P));
  }

  interface ArcPredicate {
    boolean test(MigrationState from, MigrationState to);
  }

  static Set<String> arcsWhere(ArcPredicate predicate) {
    Set<String> arcs = new HashSet<>();
    for (MigrationState from : MigrationState.values()) {
      for (MigrationState to : MigrationState.values()) {
        if (predicate.test(from, to)) {
          arcs.add(from + ">" + to);
        }
      }
    }
    return arcs;
  }

  static List<MigrationState> supportedStates(MigrationFlags flags) {
    return Arrays.stream(MigrationState.values())
        .filter(state -> state != ERROR && flags.supports(state))
        .collect(Collectors.toList());
  }

  /** The arcs a driver must implement for its flags, from the kernel's comment. */
  static Set<String> implementedArcs(MigrationFlags flags) {
    List<String> arcs =
        new ArrayList<>(
            List.of("RESUMING>STOP", "STOP>RESUMING", "STOP>STOP_COPY", "STOP_COPY>STOP"));
    if (flags.p2p()) {
      arcs.addAll(
          List.of(
              "RUNNING>RUNNING_P2P",
              "RUNNING_P2P>RUNNING",
              "RUNNING_P2P>STOP",
              "STOP>RUNNING_P2P"));
    } else {
      arcs.addAll(List.of("RUNNING>STOP", "STOP>RUNNING"));
    }
    if (flags.preCopy()) {
      arcs.addAll(List.of("RUNNING>PRE_COPY", "PRE_COPY>RUNNING"));
      if (flags.p2p()) {
        arcs.addAll(
            List.of(
                "PRE_COPY>PRE_COPY_P2P",
                "PRE_COPY_P2P>PRE_COPY",
                "PRE_COPY_P2P>RUNNING_P2P",
                "PRE_COPY_P2P>STOP_COPY",
                "RUNNING_P2P>PRE_COPY_P2P"));
      } else {
        arcs.add("PRE_COPY>STOP_COPY");
      }
    }
    return new HashSet<>(arcs);
  }
}
