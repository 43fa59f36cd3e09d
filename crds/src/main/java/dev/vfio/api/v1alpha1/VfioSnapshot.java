package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A checkpoint of the VFIO device state of one pod's devices, stored as blobs on a volume. */
@Group(VfioSnapshot.GROUP)
@Version(VfioSnapshot.VERSION)
@Kind("VfioSnapshot")
@Singular("vfiosnapshot")
@Plural("vfiosnapshots")
@ShortNames("vsnap")
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Stage",
    jsonPath = ".status.stage",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Node",
    jsonPath = ".status.nodeName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Devices",
    jsonPath = ".status.deviceCount",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Size",
    jsonPath = ".status.size",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Progress",
    jsonPath = ".status.progress.percent",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Downtime(ms)",
    jsonPath = ".status.downtimeMillis",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Reason",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class VfioSnapshot extends CustomResource<VfioSnapshotSpec, VfioSnapshotStatus>
    implements Namespaced {
  public static final String GROUP = "vfio.dev";
  public static final String VERSION = "v1alpha1";

  @Override
  @Required
  @JsonPropertyDescription("What to checkpoint; immutable once created.")
  public VfioSnapshotSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription("Progress and result of the snapshot, written only by the operator.")
  public VfioSnapshotStatus getStatus() {
    return super.getStatus();
  }
}
