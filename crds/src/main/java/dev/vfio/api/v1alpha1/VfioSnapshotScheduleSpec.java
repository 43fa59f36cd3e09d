package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * When a schedule takes snapshots, of what, and how many it keeps. Everything but the template may
 * change; the template is a snapshot's spec, immutable like one: a new schedule snapshots something
 * else.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioSnapshotScheduleSpec extends SchemaObject {
  @JsonPropertyDescription(
      "Cron schedule in UTC, five fields (minute hour day-of-month month day-of-week), e.g."
          + " '0 3 * * *' for 03:00 every day; or @hourly, @daily, @weekly, @monthly, @yearly.")
  @Required
  @Size(min = 1, max = 100)
  private String schedule;

  @JsonPropertyDescription("True: no new snapshot is taken; retention still applies.")
  @Default("false")
  private Boolean suspend;

  @JsonPropertyDescription(
      "Forbid (default): a run due while the previous snapshot has not ended is skipped. Allow:"
          + " it is taken, and waits Pending (PodBusy) for the previous one.")
  @Default("Forbid")
  private ConcurrencyPolicy concurrencyPolicy;

  @JsonPropertyDescription("The spec of every snapshot this schedule takes; immutable.")
  @Required
  private VfioSnapshotSpec template;

  @JsonPropertyDescription(
      "Which ended snapshots to keep; default the newest 7 Ready and 1 Failed.")
  private RetentionSpec retention;

  @JsonPropertyDescription(
      "Retain (default): deleting the schedule leaves its snapshots. Delete: they are deleted with"
          + " it.")
  @Default("Retain")
  private SnapshotsOnDeletion snapshotsOnDeletion;

  public String getSchedule() {
    return schedule;
  }

  public void setSchedule(String schedule) {
    this.schedule = schedule;
  }

  public Boolean getSuspend() {
    return suspend;
  }

  public void setSuspend(Boolean suspend) {
    this.suspend = suspend;
  }

  public boolean suspended() {
    return Boolean.TRUE.equals(suspend);
  }

  public ConcurrencyPolicy getConcurrencyPolicy() {
    return concurrencyPolicy;
  }

  public void setConcurrencyPolicy(ConcurrencyPolicy concurrencyPolicy) {
    this.concurrencyPolicy = concurrencyPolicy;
  }

  public ConcurrencyPolicy concurrencyPolicyOrDefault() {
    return concurrencyPolicy == null ? ConcurrencyPolicy.Forbid : concurrencyPolicy;
  }

  public VfioSnapshotSpec getTemplate() {
    return template;
  }

  public void setTemplate(VfioSnapshotSpec template) {
    this.template = template;
  }

  public RetentionSpec getRetention() {
    return retention;
  }

  public void setRetention(RetentionSpec retention) {
    this.retention = retention;
  }

  public SnapshotsOnDeletion getSnapshotsOnDeletion() {
    return snapshotsOnDeletion;
  }

  public void setSnapshotsOnDeletion(SnapshotsOnDeletion snapshotsOnDeletion) {
    this.snapshotsOnDeletion = snapshotsOnDeletion;
  }

  public SnapshotsOnDeletion snapshotsOnDeletionOrDefault() {
    return snapshotsOnDeletion == null ? SnapshotsOnDeletion.Retain : snapshotsOnDeletion;
  }
}
