package dev.vfio.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Shows resources' progress while they run, with the columns of {@code kubectl get -o wide} and the
 * percentage drawn as a bar. On a terminal the table is redrawn in place; anywhere else (a pipe, a
 * CI log, a test) cursor movements would be noise, so each resource whose row changed gets one
 * plain line instead.
 */
public final class SandboxProgress {
  private static final String PROGRESS_COLUMN = "Progress";
  private static final int BAR_WIDTH = 20;
  private static final String ESC = "\u001b[";

  private final SandboxPrinterColumns columns;
  private final PrintStream out;
  private final boolean redrawInPlace;
  private final Clock clock;
  private final Instant started;
  private final Map<String, List<String>> printed = new HashMap<>();
  private int linesOnScreen;

  public SandboxProgress(
      SandboxPrinterColumns columns, PrintStream out, boolean redrawInPlace, Clock clock) {
    this.columns = columns;
    this.out = out;
    this.redrawInPlace = redrawInPlace;
    this.clock = clock;
    this.started = clock.instant();
  }

  /**
   * How often {@link #show} is worth calling: a terminal redraw looks live, a log line per second
   * is enough.
   */
  public Duration frameInterval() {
    return redrawInPlace ? Duration.ofMillis(250) : Duration.ofSeconds(1);
  }

  public void show(List<? extends HasMetadata> resources) {
    Instant now = clock.instant();
    // An age is meaningless while the table is redrawn every frame: the columns that change are the
    // point.
    List<SandboxPrinterColumns.Column> shown =
        columns.columns().stream()
            .filter(c -> !SandboxPrinterColumns.DATE.equals(c.type()))
            .toList();
    List<List<String>> rows = new ArrayList<>();
    for (HasMetadata resource : resources) {
      JsonNode tree = SandboxPrinterColumns.tree(resource);
      List<String> row = new ArrayList<>();
      row.add(resource.getMetadata().getName());
      shown.forEach(
          c ->
              row.add(
                  PROGRESS_COLUMN.equals(c.name()) ? bar(c.cell(tree, now)) : c.cell(tree, now)));
      rows.add(row);
    }
    if (redrawInPlace) {
      redraw(shown, rows);
    } else {
      printChanged(shown, rows, now);
    }
    out.flush();
  }

  private void redraw(List<SandboxPrinterColumns.Column> shown, List<List<String>> rows) {
    List<List<String>> table = new ArrayList<>();
    List<String> header = new ArrayList<>();
    header.add("NAME");
    shown.forEach(c -> header.add(c.name().toUpperCase(Locale.ROOT)));
    table.add(header);
    table.addAll(rows);
    String text = SandboxPrinterColumns.layout(table);
    if (linesOnScreen > 0) {
      // Back to the first line of the previous frame, then erase it and everything below.
      out.print(ESC + linesOnScreen + "A\r" + ESC + "J");
    }
    out.print(text);
    linesOnScreen = table.size();
  }

  private void printChanged(
      List<SandboxPrinterColumns.Column> shown, List<List<String>> rows, Instant now) {
    double elapsed = Duration.between(started, now).toMillis() / 1000.0;
    for (List<String> row : rows) {
      if (row.equals(printed.put(row.get(0), row))) {
        continue;
      }
      StringBuilder line =
          new StringBuilder(String.format(Locale.ROOT, "%7.1fs  %s", elapsed, row.get(0)));
      int length = line.length();
      for (int i = 1; i < row.size(); i++) {
        if (!row.get(i).isEmpty()) {
          line.append("  ")
              .append(shown.get(i - 1).name().toLowerCase(Locale.ROOT))
              .append('=')
              .append(row.get(i));
        }
      }
      out.println(line.length() == length ? line + "  (no status yet)" : line);
    }
  }

  /** {@code [#########-----------] 45%}; empty while the resource reports no progress yet. */
  static String bar(String percent) {
    if (percent.isEmpty()) {
      return "";
    }
    int value = Math.max(0, Math.min(100, Integer.parseInt(percent)));
    int filled = value * BAR_WIDTH / 100;
    return "["
        + "#".repeat(filled)
        + "-".repeat(BAR_WIDTH - filled)
        + "] "
        + String.format(Locale.ROOT, "%3d%%", value);
  }
}
