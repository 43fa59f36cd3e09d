package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A journal entry the node agent could not replay at start: set aside, never deleted, so that an
 * admin can see what a crashed agent may have left stopped or frozen.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SetAsideJournalEntry extends SchemaObject {
  @JsonPropertyDescription(
      "File name of the entry in the quarantine directory below the agent's journal directory (VFIO_JOURNAL_DIR).")
  private String file;

  @JsonPropertyDescription("Why replay set it aside: what it could not read or undo.")
  private String reason;

  @JsonPropertyDescription("RFC 3339 time it was set aside.")
  private String setAsideTime;

  public String getFile() {
    return file;
  }

  public void setFile(String file) {
    this.file = file;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getSetAsideTime() {
    return setAsideTime;
  }

  public void setSetAsideTime(String setAsideTime) {
    this.setAsideTime = setAsideTime;
  }
}
