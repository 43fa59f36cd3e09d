package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalSelectableField;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Internal: one unit of work for the agent of one node. The operator writes the spec, the agent the
 * status; this is the only channel between them.
 */
@Group(VfioSnapshot.GROUP)
@Version(VfioSnapshot.VERSION)
@Kind("VfioNodeTask")
@Singular("vfionodetask")
@Plural("vfionodetasks")
@ShortNames("vtask")
@AdditionalPrinterColumn(
    name = "Operation",
    jsonPath = ".spec.operation",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Node",
    jsonPath = ".spec.nodeName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Stage",
    jsonPath = ".status.stage",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Bytes",
    jsonPath = ".status.bytesDone",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Reason",
    jsonPath = ".status.reason",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalSelectableField(jsonPath = "." + VfioNodeTask.NODE_FIELD)
public class VfioNodeTask extends CustomResource<VfioNodeTaskSpec, VfioNodeTaskStatus>
    implements Namespaced {
  /**
   * Field selecting the tasks of one node (the CRD declares it selectable): each agent lists and
   * watches only the tasks whose {@code spec.nodeName} is its node. The field, not a label, because
   * it is what the task is about: a label copied from it could say otherwise.
   */
  public static final String NODE_FIELD = "spec.nodeName";

  /**
   * Label carrying {@code spec.nodeName}, for people: {@code kubectl get vtask -l
   * vfio.dev/node=<node>}. No component selects by it.
   */
  public static final String NODE_LABEL = "vfio.dev/node";

  /**
   * Label selecting the tasks of one VfioSnapshot or VfioMigration by its UID. Not by its name: a
   * label value holds at most 63 characters, a name up to 253, and a snapshot and a migration may
   * have the same name.
   */
  public static final String PARENT_UID_LABEL = "vfio.dev/parent-uid";

  @Override
  @Required
  @JsonPropertyDescription("The work to do on one node, written only by the operator.")
  public VfioNodeTaskSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "Progress and result of the work, written only by the agent of that node.")
  public VfioNodeTaskStatus getStatus() {
    return super.getStatus();
  }
}
