package dev.vfio.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The printer columns of a shipped CRD, evaluated on a resource as the API server evaluates them
 * for {@code kubectl get} and laid out as kubectl lays them out. They are read from the manifest
 * rather than repeated here, so the sandbox's tables change when the CRD's columns do.
 *
 * <p>Only the simple JSONPaths printer columns use are understood: fields ({@code .status.phase}),
 * equality filters ({@code [?(@.type=="Ready")]}) and indexes ({@code [0]}). Anything else fails
 * when the manifest is read, not with a silently empty column.
 */
public final class SandboxPrinterColumns {
  /** Column types whose value kubectl shows as an age ("5m3s") rather than as written. */
  static final String DATE = "date";

  private static final Pattern STEP =
      Pattern.compile(
          "\\G(?:\\.([A-Za-z0-9_-]+)|\\[\\?\\(@\\.([A-Za-z0-9_-]+)\\s*==\\s*\"([^\"]*)\"\\)]|\\[(\\d+)])");
  // kubectl's tabwriter: a column is its widest cell plus 3 spaces, and at least 6 wide.
  private static final int PADDING = 3;
  private static final int MIN_WIDTH = 6;
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private final List<Column> columns;

  private SandboxPrinterColumns(List<Column> columns) {
    this.columns = List.copyOf(columns);
  }

  /**
   * One {@code additionalPrinterColumns} entry.
   *
   * @param name the column's name; kubectl prints it upper-cased as the header
   * @param type string, integer, number, boolean or date
   * @param priority 0 for {@code kubectl get}, higher only with {@code -o wide}
   * @param jsonPath the path as the manifest writes it
   */
  public record Column(String name, String type, int priority, String jsonPath, List<Step> steps) {
    /** The cell kubectl would print for this column; empty where the path finds nothing. */
    public String cell(JsonNode resource, Instant now) {
      List<JsonNode> found = List.of(resource);
      for (Step step : steps) {
        List<JsonNode> next = new ArrayList<>();
        found.forEach(node -> step.select(node, next));
        found = next;
      }
      // As the API server does, a path matching several values shows the first.
      return found.isEmpty() ? "" : format(found.get(0), now);
    }

    private String format(JsonNode value, Instant now) {
      switch (type) {
        case DATE -> {
          try {
            return age(Duration.between(OffsetDateTime.parse(value.asText()).toInstant(), now));
          } catch (DateTimeParseException e) {
            return "";
          }
        }
        case "integer" -> {
          return value.isNumber() ? String.valueOf(value.asLong()) : "";
        }
        default -> {
          return value.isValueNode() ? value.asText() : value.toString();
        }
      }
    }
  }

  /** One step of a JSONPath: adds what it selects from {@code node} to {@code into}. */
  @FunctionalInterface
  public interface Step {
    void select(JsonNode node, List<JsonNode> into);
  }

  /**
   * The printer columns of {@code crdName} (e.g. {@code vfiosnapshots.vfio.dev}) as shipped on the
   * classpath.
   */
  public static SandboxPrinterColumns forCrd(String crdName) {
    String resource = "/vfio-crds/" + crdName + ".yaml";
    CustomResourceDefinition crd;
    try (InputStream manifest = SandboxPrinterColumns.class.getResourceAsStream(resource)) {
      if (manifest == null) {
        throw new IllegalStateException("no CRD manifest " + resource + " on the classpath");
      }
      crd = SERIALIZATION.unmarshal(manifest, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
    // kubectl shows the columns of the version the API server stores.
    var version =
        crd.getSpec().getVersions().stream()
            .filter(v -> Boolean.TRUE.equals(v.getStorage()))
            .findFirst()
            .orElse(crd.getSpec().getVersions().get(0));
    List<Column> columns = new ArrayList<>();
    List<CustomResourceColumnDefinition> declared =
        version.getAdditionalPrinterColumns() == null
            ? List.of()
            : version.getAdditionalPrinterColumns();
    for (CustomResourceColumnDefinition column : declared) {
      columns.add(
          new Column(
              column.getName(),
              column.getType(),
              column.getPriority() == null ? 0 : column.getPriority(),
              column.getJsonPath(),
              parse(column.getJsonPath())));
    }
    return new SandboxPrinterColumns(columns);
  }

  public List<Column> columns() {
    return columns;
  }

  /** The resource as the API server sees it, for {@link Column#cell}. */
  public static JsonNode tree(HasMetadata resource) {
    return SERIALIZATION.convertValue(resource, JsonNode.class);
  }

  /**
   * The table {@code kubectl get} prints for these resources, with {@code -o wide} when {@code
   * wide}.
   */
  public String table(List<? extends HasMetadata> resources, boolean wide, Instant now) {
    List<Column> shown = columns.stream().filter(c -> wide || c.priority() == 0).toList();
    List<List<String>> rows = new ArrayList<>();
    List<String> header = new ArrayList<>();
    header.add("NAME");
    shown.forEach(c -> header.add(c.name().toUpperCase(java.util.Locale.ROOT)));
    rows.add(header);
    for (HasMetadata resource : resources) {
      JsonNode tree = tree(resource);
      List<String> row = new ArrayList<>();
      row.add(resource.getMetadata().getName());
      shown.forEach(c -> row.add(c.cell(tree, now)));
      rows.add(row);
    }
    return layout(rows);
  }

  /** Lays rows out in columns as kubectl does; the last column is not padded. */
  public static String layout(List<List<String>> rows) {
    int count = rows.stream().mapToInt(List::size).max().orElse(0);
    int[] widths = new int[count];
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], Math.max(MIN_WIDTH, row.get(i).length() + PADDING));
      }
    }
    StringBuilder text = new StringBuilder();
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < row.size() - 1) {
          line.append(" ".repeat(widths[i] - cell.length()));
        }
      }
      text.append(line.toString().stripTrailing()).append('\n');
    }
    return text.toString();
  }

  /** An age as kubectl prints it (apimachinery's HumanDuration): 45s, 3m7s, 2h5m, 4d. */
  public static String age(Duration elapsed) {
    long seconds = elapsed.toSeconds();
    if (seconds < -1) {
      return "<invalid>";
    }
    if (seconds < 0) {
      return "0s";
    }
    if (seconds < 60 * 2) {
      return seconds + "s";
    }
    long minutes = elapsed.toMinutes();
    if (minutes < 10) {
      long rest = seconds % 60;
      return rest == 0 ? minutes + "m" : minutes + "m" + rest + "s";
    }
    if (minutes < 60 * 3) {
      return minutes + "m";
    }
    long hours = elapsed.toHours();
    if (hours < 8) {
      long rest = minutes % 60;
      return rest == 0 ? hours + "h" : hours + "h" + rest + "m";
    }
    if (hours < 48) {
      return hours + "h";
    }
    if (hours < 24 * 8) {
      long rest = hours % 24;
      return rest == 0 ? hours / 24 + "d" : hours / 24 + "d" + rest + "h";
    }
    if (hours < 24 * 365 * 2) {
      return hours / 24 + "d";
    }
    if (hours < 24 * 365 * 8) {
      long rest = (hours / 24) % 365;
      return rest == 0 ? hours / 24 / 365 + "y" : hours / 24 / 365 + "y" + rest + "d";
    }
    return hours / 24 / 365 + "y";
  }

  static List<Step> parse(String jsonPath) {
    List<Step> steps = new ArrayList<>();
    Matcher matcher = STEP.matcher(jsonPath);
    int end = 0;
    while (end < jsonPath.length() && matcher.find() && matcher.start() == end) {
      if (matcher.group(1) != null) {
        String field = matcher.group(1);
        steps.add(
            (node, into) -> {
              JsonNode child = node.get(field);
              if (child != null && !child.isNull()) {
                into.add(child);
              }
            });
      } else if (matcher.group(2) != null) {
        String field = matcher.group(2);
        String value = matcher.group(3);
        steps.add(
            (node, into) ->
                node.forEach(
                    element -> {
                      JsonNode compared = element.get(field);
                      if (node.isArray()
                          && compared != null
                          && compared.isValueNode()
                          && value.equals(compared.asText())) {
                        into.add(element);
                      }
                    }));
      } else {
        int index = Integer.parseInt(matcher.group(4));
        steps.add(
            (node, into) -> {
              if (node.isArray() && index < node.size()) {
                into.add(node.get(index));
              }
            });
      }
      end = matcher.end();
    }
    if (end != jsonPath.length() || steps.isEmpty()) {
      throw new IllegalArgumentException(
          "printer column path "
              + jsonPath
              + " is not a simple JSONPath"
              + " (fields, [n] and [?(@.field==\"value\")]) at character "
              + end);
    }
    return steps;
  }
}
