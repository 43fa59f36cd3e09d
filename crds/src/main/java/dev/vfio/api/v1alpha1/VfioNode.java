package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** Cluster-scoped: one node's VFIO device inventory and agent heartbeat, named after the node. */
@Group(VfioSnapshot.GROUP)
@Version(VfioSnapshot.VERSION)
@Kind("VfioNode")
@Singular("vfionode")
@Plural("vfionodes")
@ShortNames("vnode")
@AdditionalPrinterColumn(
    name = "Backend",
    jsonPath = ".status.backend",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Devices",
    jsonPath = ".status.deviceCount",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Heartbeat",
    jsonPath = ".status.heartbeatTime",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class VfioNode extends CustomResource<VfioNodeSpec, VfioNodeStatus> {
  @Override
  @JsonPropertyDescription(
      "Empty: a node has no desired state; its agent reports everything in status.")
  public VfioNodeSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "The node's devices, storage claims and agent heartbeat, written only by the node's agent.")
  public VfioNodeStatus getStatus() {
    return super.getStatus();
  }
}
