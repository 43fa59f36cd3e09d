package dev.vfio.agent.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.VfioException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The simulated devices of one node, built once from the agent's configuration: one {@link
 * SimulatedDevice} per address, whose state lives under a common state directory.
 *
 * <p>The configuration is a JSON list, one object per device; only {@code address} is required:
 *
 * <pre>{@code
 * [
 *   {"address": "0000:65:00.0", "driver": "mlx5_vfio_pci", "vendorId": "15b3",
 *    "deviceId": "101e", "subsystemVendorId": "15b3", "subsystemDeviceId": "0016",
 *    "revision": "00", "driverVersion": "1.0", "iommuGroup": "42", "stateBytes": 67108864,
 *    "flags": ["STOP_COPY", "P2P", "PRE_COPY"], "dirtyBytesPerRound": 1048576,
 *    "zeroAtPrecopyEnd": false, "migDataSize": true, "precopyInfoV2": true,
 *    "reinitOnPrecopyInfo": 0, "v1MigrationRegion": false,
 *    "faults": {"arcs": [{"from": "STOP", "to": "STOP_COPY", "errno": "EIO",
 *                         "leaveInError": true}],
 *               "failStreamAfterBytes": 4096, "bytesPerSecond": 0,
 *               "rejectResumeData": false,
 *               "refuseResumeWrite": {"afterBytes": 0, "errno": "EINVAL"}}}
 * ]
 * }</pre>
 *
 * Defaults are those of {@link SimulatedDeviceSpec#of}: a 1 MiB STOP_COPY and P2P device with
 * MIG_DATA_SIZE and no faults; subsystem ids, revision and driver version are unknown unless given.
 */
public final class SimulatedDevices {
  private static final long DEFAULT_STATE_BYTES = 1 << 20;
  private static final Set<String> DEVICE_FIELDS =
      Set.of(
          "address",
          "driver",
          "vendorId",
          "deviceId",
          "iommuGroup",
          "subsystemVendorId",
          "subsystemDeviceId",
          "revision",
          "driverVersion",
          "stateBytes",
          "flags",
          "dirtyBytesPerRound",
          "zeroAtPrecopyEnd",
          "migDataSize",
          "precopyInfoV2",
          "reinitOnPrecopyInfo",
          "v1MigrationRegion",
          "faults");
  private static final Set<String> FAULT_FIELDS =
      Set.of(
          "arcs",
          "failStreamAfterBytes",
          "bytesPerSecond",
          "rejectResumeData",
          "refuseResumeWrite");
  private static final Set<String> WRITE_REFUSAL_FIELDS = Set.of("afterBytes", "errno");
  private static final Set<String> ARC_FAULT_FIELDS = Set.of("from", "to", "errno", "leaveInError");

  private final Map<String, SimulatedDevice> devices;

  private final PeerDma peerDma;

  private SimulatedDevices(Map<String, SimulatedDevice> devices, PeerDma peerDma) {
    this.devices = Collections.unmodifiableMap(devices);
    this.peerDma = peerDma;
  }

  /** Whose peer-to-peer DMA the node's devices guard; pods tell it which devices they hold. */
  public PeerDma peerDma() {
    return peerDma;
  }

  /** Creates (or finds again, from {@code stateDirectory}) one device per spec. */
  public static SimulatedDevices of(List<SimulatedDeviceSpec> specs, Path stateDirectory)
      throws IOException {
    Map<String, SimulatedDevice> devices = new LinkedHashMap<>();
    PeerDma peerDma = new PeerDma();
    for (SimulatedDeviceSpec spec : specs) {
      if (devices.containsKey(spec.address())) {
        throw new IllegalArgumentException("simulated device " + spec.address() + " listed twice");
      }
      devices.put(spec.address(), new SimulatedDevice(spec, stateDirectory, peerDma));
    }
    return new SimulatedDevices(devices, peerDma);
  }

  public static SimulatedDevices fromFile(Path configuration, Path stateDirectory)
      throws IOException {
    return of(parse(Files.readString(configuration, StandardCharsets.UTF_8)), stateDirectory);
  }

  public static SimulatedDevices fromJson(String configuration, Path stateDirectory)
      throws IOException {
    return of(parse(configuration), stateDirectory);
  }

  /**
   * The device specs a JSON configuration describes.
   *
   * @throws IllegalArgumentException naming the device and field at fault
   */
  public static List<SimulatedDeviceSpec> parse(String json) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "simulated devices: not JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isArray()) {
      throw new IllegalArgumentException("simulated devices: expected a JSON list of devices");
    }
    List<SimulatedDeviceSpec> specs = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      specs.add(device(root.get(i), "device " + i));
    }
    return specs;
  }

  /** The simulated device at {@code address}; ENODEV if this node has none there. */
  public SimulatedDevice open(String address) throws VfioException {
    SimulatedDevice device = devices.get(address);
    if (device == null) {
      throw new VfioException(address, "open", Errno.ENODEV, "no simulated device at this address");
    }
    return device;
  }

  /** Addresses in configuration order. */
  public List<String> addresses() {
    return List.copyOf(devices.keySet());
  }

  private static SimulatedDeviceSpec device(JsonNode node, String position) {
    String where =
        node.path("address").isTextual() ? "device " + node.get("address").asText() : position;
    requireObject(node, where, DEVICE_FIELDS);
    String address = text(node, "address", where, null);
    SimulatedDeviceSpec defaults = SimulatedDeviceSpec.of(address, DEFAULT_STATE_BYTES);
    return new SimulatedDeviceSpec(
        address,
        text(node, "driver", where, defaults.driver()),
        text(node, "vendorId", where, defaults.vendorId()),
        text(node, "deviceId", where, defaults.deviceId()),
        text(node, "iommuGroup", where, defaults.iommuGroup()),
        number(node, "stateBytes", where, defaults.stateBytes()),
        node.has("flags") ? flags(node.get("flags"), where) : defaults.flags(),
        number(node, "dirtyBytesPerRound", where, defaults.dirtyBytesPerRound()),
        bool(node, "zeroAtPrecopyEnd", where, defaults.zeroAtPrecopyEnd()),
        bool(node, "migDataSize", where, defaults.migDataSize()),
        bool(node, "precopyInfoV2", where, defaults.precopyInfoV2()),
        (int) number(node, "reinitOnPrecopyInfo", where, defaults.reinitOnPrecopyInfo()),
        bool(node, "v1MigrationRegion", where, defaults.v1MigrationRegion()),
        node.has("faults") ? faults(node.get("faults"), where + " faults") : defaults.faults(),
        new DeviceDetails(
            optionalText(node, "subsystemVendorId", where),
            optionalText(node, "subsystemDeviceId", where),
            optionalText(node, "revision", where),
            optionalText(node, "driverVersion", where)));
  }

  /** A text field that stands for something sysfs may not show: absent is unknown. */
  private static Optional<String> optionalText(JsonNode node, String field, String where) {
    return node.has(field) ? Optional.of(text(node, field, where, null)) : Optional.empty();
  }

  private static MigrationFlags flags(JsonNode node, String where) {
    if (!node.isArray()) {
      throw new IllegalArgumentException(where + ": flags must be a list such as [\"STOP_COPY\"]");
    }
    List<String> names = new ArrayList<>();
    node.forEach(flag -> names.add(flag.asText()));
    try {
      return MigrationFlags.fromNames(names);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static SimulatedFaults faults(JsonNode node, String where) {
    requireObject(node, where, FAULT_FIELDS);
    SimulatedFaults faults = SimulatedFaults.NONE;
    if (node.has("arcs")) {
      if (!node.get("arcs").isArray()) {
        throw new IllegalArgumentException(where + ": arcs must be a list");
      }
      for (JsonNode arc : node.get("arcs")) {
        requireObject(arc, where + " arc", ARC_FAULT_FIELDS);
        faults =
            faults.withArcFault(
                state(arc, "from", where),
                state(arc, "to", where),
                errno(text(arc, "errno", where, "EIO"), where),
                bool(arc, "leaveInError", where, false));
      }
    }
    if (node.has("failStreamAfterBytes")) {
      faults = faults.withStreamFailureAfter(number(node, "failStreamAfterBytes", where, 0));
    }
    faults = faults.withBytesPerSecond(number(node, "bytesPerSecond", where, 0));
    if (bool(node, "rejectResumeData", where, false)) {
      faults = faults.withRejectedResumeData();
    }
    if (node.has("refuseResumeWrite")) {
      JsonNode refusal = node.get("refuseResumeWrite");
      requireObject(refusal, where + " refuseResumeWrite", WRITE_REFUSAL_FIELDS);
      faults =
          faults.withResumeWritesRefusedAfter(
              number(refusal, "afterBytes", where + " refuseResumeWrite", 0),
              errno(text(refusal, "errno", where + " refuseResumeWrite", "ENOMEM"), where));
    }
    return faults;
  }

  private static MigrationState state(JsonNode node, String field, String where) {
    String name = text(node, field, where, null);
    try {
      return MigrationState.valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + field + ": unknown state " + name, e);
    }
  }

  private static Errno errno(String name, String where) {
    try {
      return Errno.valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": unknown errno " + name, e);
    }
  }

  private static void requireObject(JsonNode node, String where, Set<String> fields) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(where + ": expected an object");
    }
    // A misspelt field would silently fall back to a default and test something else.
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw new IllegalArgumentException(where + ": unknown field " + name);
      }
    }
  }

  private static String text(JsonNode node, String field, String where, String fallback) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      if (fallback == null) {
        throw new IllegalArgumentException(where + ": " + field + " is required");
      }
      return fallback;
    }
    if (!value.isTextual()) {
      throw new IllegalArgumentException(where + ": " + field + " must be a string");
    }
    return value.asText();
  }

  private static long number(JsonNode node, String field, String where, long fallback) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isIntegralNumber()) {
      throw new IllegalArgumentException(where + ": " + field + " must be a whole number");
    }
    return value.asLong();
  }

  private static boolean bool(JsonNode node, String field, String where, boolean fallback) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isBoolean()) {
      throw new IllegalArgumentException(where + ": " + field + " must be true or false");
    }
    return value.asBoolean();
  }
}
