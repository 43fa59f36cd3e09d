package dev.vfio.agent;

import dev.vfio.agent.freeze.Quiescer;
import dev.vfio.agent.inventory.DeviceInventory;
import dev.vfio.agent.pods.PodDeviceResolver;
import dev.vfio.agent.vfio.DeviceAccess;

/**
 * The node-facing layers of the agent (DESIGN §4), chosen together: all kernel or all simulated.
 * Everything above them is the same code on real nodes and in tests.
 */
public record NodeBackend(
    String name,
    DeviceInventory inventory,
    PodDeviceResolver resolver,
    DeviceAccess access,
    Quiescer quiescer) {}
