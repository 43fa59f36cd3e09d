package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Takes a VfioSnapshot of one pod on a cron schedule and keeps a bounded number of them, as
 * Velero's Schedule and Kubernetes' CronJob do for their objects.
 */
@Group(VfioSnapshot.GROUP)
@Version(VfioSnapshot.VERSION)
@Kind("VfioSnapshotSchedule")
@Singular("vfiosnapshotschedule")
@Plural("vfiosnapshotschedules")
@ShortNames("vsched")
// Its snapshots are named <schedule>-<12 digits> and labelled with its name (≤ 63 characters).
@ValidationRule(
    value = "self.metadata.name.size() <= " + VfioSnapshotSchedule.MAX_NAME,
    message = "metadata.name must be at most " + VfioSnapshotSchedule.MAX_NAME + " characters")
@AdditionalPrinterColumn(
    name = "Schedule",
    jsonPath = ".spec.schedule",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Suspend",
    jsonPath = ".spec.suspend",
    type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(
    name = "Last",
    jsonPath = ".status.lastScheduleTime",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Next",
    jsonPath = ".status.nextScheduleTime",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Snapshots",
    jsonPath = ".status.snapshotCount",
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
public class VfioSnapshotSchedule
    extends CustomResource<VfioSnapshotScheduleSpec, VfioSnapshotScheduleStatus>
    implements Namespaced {
  /** As a CronJob's: room for the snapshot names and the label value built from it. */
  public static final int MAX_NAME = 50;

  /** On each snapshot a schedule made: the schedule's name. */
  public static final String SCHEDULE_LABEL = "vfio.dev/schedule";

  /** On each snapshot a schedule made: the scheduled time it stands for, RFC 3339. */
  public static final String SCHEDULED_TIME_ANNOTATION = "vfio.dev/scheduled-time";

  @Override
  @Required
  @JsonPropertyDescription("When to take snapshots, of what, and how many to keep.")
  public VfioSnapshotScheduleSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription("The schedule's last and next runs, written only by the operator.")
  public VfioSnapshotScheduleStatus getStatus() {
    return super.getStatus();
  }
}
