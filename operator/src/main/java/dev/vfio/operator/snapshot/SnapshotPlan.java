package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.NodeDevice;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;

/** Everything preflight established about a snapshot that may start. */
public record SnapshotPlan(
    Pod pod, String nodeName, List<NodeDevice> devices, String storageClaim, Duration timeout) {}
