package dev.vfio.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node of the local cluster: its agent process and the directories a real node would have — the
 * crash journal on the node's disk and the simulated devices' own state (which, like device
 * hardware, outlives the agent process). The storage claim is shared by all nodes (ReadWriteMany).
 */
public final class SimulatedNode {
  private final String name;
  private final Path directory;
  private final ManagedProcess agent;

  /**
   * A simulated device in the agent's configuration format (see {@code SimulatedDevices}).
   *
   * @param address PCI address
   * @param stateBytes size of the device state
   * @param settings further fields of the format: flags, faults, driver…
   */
  public record Device(String address, long stateBytes, Map<String, Object> settings) {
    public static Device of(String address, long stateBytes) {
      return new Device(address, stateBytes, Map.of());
    }

    public Device with(String key, Object value) {
      Map<String, Object> more = new LinkedHashMap<>(settings);
      more.put(key, value);
      return new Device(address, stateBytes, more);
    }

    Map<String, Object> toConfiguration() {
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("address", address);
      config.put("stateBytes", stateBytes);
      config.put("driver", "vfio-pci");
      config.put("vendorId", "10de");
      config.put("deviceId", "2330");
      config.putAll(settings);
      return config;
    }
  }

  SimulatedNode(
      LocalCluster cluster, String name, List<Device> devices, Map<String, String> environment)
      throws IOException {
    this.name = name;
    this.directory =
        Files.createDirectories(cluster.workDirectory().resolve("nodes").resolve(name));
    Path devicesFile = directory.resolve("devices.json");
    Files.writeString(
        devicesFile,
        new ObjectMapper()
            .writerWithDefaultPrettyPrinter()
            .writeValueAsString(devices.stream().map(Device::toConfiguration).toList()));
    Map<String, String> env = cluster.agentEnvironment(name);
    env.put("NODE_NAME", name);
    env.put("KUBERNETES_USER_AGENT", "vfio-agent/" + name);
    env.put("VFIO_BACKEND", "simulated");
    env.put("VFIO_SIM_DEVICES", devicesFile.toString());
    env.put("VFIO_SIM_DIR", directory.resolve("simulation").toString());
    env.put("VFIO_JOURNAL_DIR", directory.resolve("journal").toString());
    env.put("VFIO_STORAGE_CLAIMS", LocalCluster.STORAGE_CLAIM + "=" + cluster.storage());
    env.put("VFIO_HEARTBEAT_INTERVAL", "2s");
    env.put("VFIO_PROGRESS_INTERVAL", "200ms");
    env.put("VFIO_HEALTH_PORT", "-1");
    // Short enough for a partition test to be quick, long enough for a loaded 2-core machine.
    env.put("VFIO_TRANSFER_IDLE_TIMEOUT", "10s");
    env.putAll(environment);
    agent =
        new ManagedProcess(
            "agent-" + name,
            "dev.vfio.agent.NodeAgent",
            env,
            cluster.workDirectory().resolve("logs").resolve("agent-" + name + ".log"));
  }

  public String name() {
    return name;
  }

  public ManagedProcess agent() {
    return agent;
  }

  /** Where this node's simulated devices and frozen-pod markers live. */
  public Path simulationDirectory() {
    return directory.resolve("simulation");
  }

  public Path journalDirectory() {
    return directory.resolve("journal");
  }
}
