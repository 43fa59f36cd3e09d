package dev.vfio.agent.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SimulatedStateTest {
  static final String ADDRESS = "0000:65:00.0";

  @Test
  void verifyReturnsTheEpochOfAValidStreamOfThatDevice() throws Exception {
    byte[] stream = DataFds.streamOf(new SimulatedState(ADDRESS, 42, 123_457));
    assertEquals(42, SimulatedState.verify(ADDRESS, new ByteArrayInputStream(stream)));
  }

  @Test
  void verifyRefusesAStreamOfAnotherDevice() {
    byte[] stream = DataFds.streamOf(new SimulatedState("0000:17:00.1", 42, 1000));
    MalformedStateException e =
        assertThrows(
            MalformedStateException.class,
            () -> SimulatedState.verify(ADDRESS, new ByteArrayInputStream(stream)));
    assertTrue(e.getMessage().contains("0000:17:00.1"), e.getMessage());
  }

  @Test
  void readFindsTheFirstChangedByte() {
    byte[] stream = DataFds.streamOf(new SimulatedState(ADDRESS, 3, 50_000));
    int header = StateStreamFormat.headerBytes(ADDRESS);
    stream[header + 31_337] ^= (byte) 0x80;
    MalformedStateException e =
        assertThrows(
            MalformedStateException.class,
            () -> SimulatedState.read(new ByteArrayInputStream(stream)));
    assertTrue(e.getMessage().contains("image offset 31337"), e.getMessage());
  }

  @Test
  void readRefusesATruncatedStream() {
    byte[] stream = DataFds.streamOf(new SimulatedState(ADDRESS, 3, 50_000));
    assertThrows(
        MalformedStateException.class,
        () ->
            SimulatedState.read(
                new ByteArrayInputStream(Arrays.copyOf(stream, stream.length - 16))));
  }

  @Test
  void readRefusesTrailingBytes() {
    byte[] stream = DataFds.streamOf(new SimulatedState(ADDRESS, 3, 100));
    MalformedStateException e =
        assertThrows(
            MalformedStateException.class,
            () ->
                SimulatedState.read(
                    new ByteArrayInputStream(Arrays.copyOf(stream, stream.length + 1))));
    assertTrue(e.getMessage().contains("trailing"), e.getMessage());
  }

  @Test
  void readRefusesAHeaderWhoseSeedDoesNotMatchItsEpoch() {
    byte[] stream = DataFds.streamOf(new SimulatedState(ADDRESS, 3, 100));
    int epochAt = StateStreamFormat.HEADER_FIXED_BYTES + ADDRESS.length();
    stream[epochAt + 7] = 4;
    MalformedStateException e =
        assertThrows(
            MalformedStateException.class,
            () -> SimulatedState.read(new ByteArrayInputStream(stream)));
    assertTrue(e.getMessage().contains("seed"), e.getMessage());
  }

  @Test
  void readAcceptsAnEmptyImage() throws Exception {
    SimulatedState empty = new SimulatedState(ADDRESS, 1, 0);
    assertEquals(empty, SimulatedState.read(new ByteArrayInputStream(DataFds.streamOf(empty))));
  }
}
