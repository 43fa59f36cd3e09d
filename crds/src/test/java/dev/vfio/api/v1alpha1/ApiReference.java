package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelValidationException;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelExpr.ExprKind.Kind;
import dev.cel.parser.CelStandardMacro;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Renders docs/api-reference.md from the checked-in CRD manifests. It reads the manifests rather
 * than the Java model because the manifests are what a cluster enforces: the page then documents
 * exactly the schema, bounds and CEL rules users meet, and ApiReferenceTest fails whenever the two
 * part.
 *
 * <p>The output is GitHub-flavoured Markdown without HTML, so it reads the same on GitHub, in an
 * editor and in a terminal pager.
 */
final class ApiReference {
  /** Page order: the kinds users create first, then what they read, then the internal one. */
  static final List<String> PAGE_ORDER =
      List.of(
          "vfiosnapshots", "vfiomigrations", "vfionodes", "vfionodetasks", "vfiosnapshotschedules");

  static final String REGENERATE =
      "mvn -pl crds test -Dtest=ApiReferenceTest -Dvfio.docs.update=true";

  /**
   * Kinds whose objects only the operator and the agents write. The manifests cannot say this
   * (RBAC, not the schema, enforces it), so the page states it.
   */
  private static final Map<String, String> INTERNAL_KINDS =
      Map.of(
          "VfioNodeTask",
          "**Internal.** The operator creates and updates these objects (spec) for the node agents, "
              + "and each agent reports its progress in status. Read them with `kubectl get vtask` "
              + "to follow what a node is doing; never create, edit or delete one.");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Cel CEL_PARSER =
      CelFactory.standardCelBuilder().setStandardMacros(CelStandardMacro.STANDARD_MACROS).build();
  private static final Pattern MARKDOWN_SPECIAL = Pattern.compile("[\\\\`*_<\\[\\]~|]");

  private ApiReference() {}

  static Path checkedIn() {
    return Path.of(System.getProperty("vfio.docs"), "api-reference.md");
  }

  /** The page for the checked-in manifests of every kind, in {@link #PAGE_ORDER}. */
  static String renderCheckedInManifests() {
    if (!new HashSet<>(PAGE_ORDER).equals(new HashSet<>(CrdManifests.KINDS))) {
      throw new IllegalStateException(
          "PAGE_ORDER "
              + PAGE_ORDER
              + " must list exactly the kinds "
              + CrdManifests.KINDS
              + ", or a kind would be missing from the reference");
    }
    List<Map<String, Object>> crds = new ArrayList<>();
    for (String plural : PAGE_ORDER) {
      try {
        crds.add(CrdValidationRules.yaml(Files.readString(CrdManifests.checkedIn(plural))));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return render(crds);
  }

  /** The page for {@code crds}, CustomResourceDefinitions parsed to maps, in the given order. */
  static String render(List<Map<String, Object>> crds) {
    Set<String> groupVersions = new LinkedHashSet<>();
    for (Map<String, Object> crd : crds) {
      groupVersions.add(str(get(crd, "spec", "group")) + "/" + str(onlyVersion(crd).get("name")));
    }
    StringBuilder page = new StringBuilder();
    page.append("# API reference: ").append(String.join(", ", groupVersions)).append("\n\n");
    page.append(
        """
        This page is generated from the CRD manifests in `crds/manifests`, which are in turn \
        generated from the Java model in `dev.vfio.api.v1alpha1`; do not edit it by hand. After \
        changing the model, regenerate the manifests with \
        `mvn -pl crds test -Dvfio.crds.update=true`, then this page with \
        `%s`; the build fails while either differs from what it is generated from. \
        `kubectl explain` shows the same descriptions on a cluster. In the field tables, `[]` in \
        a path stands for every item of a list; *Required* means the API server rejects the \
        object without the field, because the schema lists it as required or because a CEL rule \
        of its parent object demands it; *Validation* lists the schema bounds and the CEL rules \
        (`x-kubernetes-validations`), each with the message the API server returns when it \
        fails. Rules that check an object as a whole are on that object's row.
        """
            .formatted(REGENERATE));
    page.append('\n');
    for (Map<String, Object> crd : crds) {
      String kind = str(get(crd, "spec", "names", "kind"));
      page.append("- [").append(kind).append("](#").append(kind.toLowerCase()).append(")\n");
    }
    for (Map<String, Object> crd : crds) {
      page.append('\n').append(renderKind(crd));
    }
    return page.toString();
  }

  private static String renderKind(Map<String, Object> crd) {
    Map<String, Object> names = map(get(crd, "spec", "names"));
    String kind = str(names.get("kind"));
    Map<String, Object> version = onlyVersion(crd);
    StringBuilder out = new StringBuilder();
    out.append("## ").append(kind).append("\n\n");
    if (INTERNAL_KINDS.containsKey(kind)) {
      out.append("> ").append(INTERNAL_KINDS.get(kind)).append("\n\n");
    }
    Map<String, Object> root = map(get(version, "schema", "openAPIV3Schema"));
    if (root.get("description") instanceof String description) {
      out.append(prose(description)).append("\n\n");
    }
    out.append("- apiVersion: ")
        .append(code(str(get(crd, "spec", "group")) + "/" + str(version.get("name"))))
        .append(", kind: ")
        .append(code(kind))
        .append('\n');
    out.append("- Scope: ").append(str(get(crd, "spec", "scope"))).append('\n');
    out.append("- Resource: ")
        .append(code(str(names.get("plural"))))
        .append(" (singular ")
        .append(code(str(names.get("singular"))))
        .append(")\n");
    List<String> shortNames = list(names.get("shortNames"));
    out.append("- Short names: ")
        .append(
            shortNames == null || shortNames.isEmpty()
                ? "none"
                : shortNames.stream().map(ApiReference::code).collect(Collectors.joining(", ")))
        .append('\n');
    Map<String, Object> subresources = map(version.get("subresources"));
    out.append("- Subresources: ")
        .append(
            subresources == null || subresources.isEmpty()
                ? "none"
                : String.join(", ", subresources.keySet()))
        .append('\n');
    out.append("- Field selectors: ")
        .append(fieldSelectors(str(get(crd, "spec", "scope")), version))
        .append('\n');

    String resource =
        shortNames == null || shortNames.isEmpty() ? str(names.get("plural")) : shortNames.get(0);
    out.append('\n')
        .append(printerColumns(resource, list(version.get("additionalPrinterColumns"))));

    Map<String, Object> properties = map(root.get("properties"));
    Set<String> documented = Set.of("spec", "status");
    Set<String> undocumented = new LinkedHashSet<>(properties.keySet());
    undocumented.removeAll(documented);
    if (!undocumented.isEmpty()) {
      // apiVersion, kind and metadata are not in our schemas; anything else would be a new
      // top-level field the page has no section for.
      throw new IllegalStateException(
          kind + " has top-level fields without a section: " + undocumented);
    }
    for (String section : List.of("spec", "status")) {
      if (properties.containsKey(section)) {
        out.append("\n### ")
            .append(Character.toUpperCase(section.charAt(0)))
            .append(section.substring(1))
            .append("\n\n");
        out.append(
            fieldTable(section, map(properties.get(section)), requiredBy(root).contains(section)));
      }
    }
    return out.toString();
  }

  /**
   * What {@code kubectl get --field-selector} accepts: the name, the namespace of a namespaced
   * kind, then the fields the CRD declares selectable (a jsonPath starts with the dot a selector
   * omits).
   */
  static String fieldSelectors(String scope, Map<String, Object> version) {
    List<String> fields = new ArrayList<>(List.of("metadata.name"));
    if ("Namespaced".equals(scope)) {
      fields.add("metadata.namespace");
    }
    List<Map<String, Object>> selectable = list(version.get("selectableFields"));
    if (selectable != null) {
      selectable.forEach(field -> fields.add(str(field.get("jsonPath")).substring(1)));
    }
    return fields.stream().map(ApiReference::code).collect(Collectors.joining(", "));
  }

  private static String printerColumns(String resource, List<Map<String, Object>> columns) {
    if (columns == null || columns.isEmpty()) {
      return "`kubectl get " + resource + "` shows only the name and age.\n";
    }
    boolean described = columns.stream().anyMatch(c -> c.get("description") != null);
    StringBuilder out = new StringBuilder();
    out.append("`kubectl get ")
        .append(resource)
        .append("` shows these columns; those marked ")
        .append("`-o wide` only with that option.\n\n");
    List<String> header = new ArrayList<>(List.of("Column", "JSONPath", "Type", "Shown"));
    if (described) {
      header.add("Description");
    }
    out.append(tableHeader(header));
    for (Map<String, Object> column : columns) {
      List<String> cells =
          new ArrayList<>(
              List.of(
                  prose(str(column.get("name"))),
                  code(str(column.get("jsonPath"))),
                  str(column.get("type")),
                  column.get("priority") instanceof Number p && p.intValue() > 0
                      ? "`-o wide`"
                      : "always"));
      if (described) {
        cells.add(column.get("description") == null ? "" : prose(str(column.get("description"))));
      }
      out.append(tableRow(cells));
    }
    return out.toString();
  }

  private record Row(String path, Map<String, Object> schema, boolean required) {}

  private static String fieldTable(String name, Map<String, Object> schema, boolean required) {
    List<Row> rows = new ArrayList<>();
    collectRows(name, schema, required, rows);
    boolean defaults = rows.stream().anyMatch(row -> row.schema().containsKey("default"));
    List<String> header = new ArrayList<>(List.of("Field", "Type", "Required"));
    if (defaults) {
      header.add("Default");
    }
    header.addAll(List.of("Description", "Validation"));
    StringBuilder out = new StringBuilder(tableHeader(header));
    for (Row row : rows) {
      List<String> cells =
          new ArrayList<>(
              List.of(code(row.path()), type(row.schema()), row.required() ? "yes" : "no"));
      if (defaults) {
        cells.add(
            row.schema().containsKey("default") ? code(json(row.schema().get("default"))) : "");
      }
      cells.add(row.schema().get("description") instanceof String d ? prose(d) : "");
      cells.add(String.join("; ", validation(row.schema())));
      out.append(tableRow(cells));
    }
    return out.toString();
  }

  /** One row per field, depth first in manifest order, descending through list items and maps. */
  private static void collectRows(
      String path, Map<String, Object> schema, boolean required, List<Row> rows) {
    rows.add(new Row(path, schema, required));
    collectChildren(path, schema, rows);
  }

  private static void collectChildren(String path, Map<String, Object> schema, List<Row> rows) {
    Map<String, Object> properties = map(schema.get("properties"));
    if (properties != null) {
      Set<String> required = requiredBy(schema);
      properties.forEach(
          (name, child) ->
              collectRows(path + "." + name, map(child), required.contains(name), rows));
    }
    if (schema.get("items") instanceof Map<?, ?> items) {
      collectChildren(path + "[]", map(items), rows);
    }
    if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      collectChildren(path + ".<key>", map(values), rows);
    }
  }

  /**
   * Properties of {@code schema} the API server insists on: listed in {@code required}, or tested
   * with {@code has(self.x)} by a rule of the object that must hold as a whole, alone or as one
   * side of a top-level {@code &&}. A {@code has} under {@code ||}, {@code !=} or a ternary does
   * not make a field required, so the rule is parsed rather than pattern-matched.
   */
  static Set<String> requiredBy(Map<String, Object> schema) {
    Set<String> required = new LinkedHashSet<>();
    List<String> listed = list(schema.get("required"));
    if (listed != null) {
      required.addAll(listed);
    }
    List<Map<String, Object>> rules = list(schema.get("x-kubernetes-validations"));
    if (rules != null) {
      for (Map<String, Object> rule : rules) {
        try {
          demandedFields(CEL_PARSER.parse(str(rule.get("rule"))).getAst().getExpr(), required);
        } catch (CelValidationException e) {
          // CrdSchemaTest reports rules that do not parse; here such a rule demands nothing.
        }
      }
    }
    return required;
  }

  private static void demandedFields(CelExpr expr, Set<String> into) {
    if (expr.getKind() == Kind.SELECT
        && expr.select().testOnly()
        && expr.select().operand().getKind() == Kind.IDENT
        && expr.select().operand().ident().name().equals("self")) {
      into.add(expr.select().field());
    } else if (expr.getKind() == Kind.CALL && expr.call().function().equals("_&&_")) {
      expr.call().args().forEach(arg -> demandedFields(arg, into));
    }
  }

  /** The type as a reader thinks of it: element types of lists and maps, enum values, format. */
  static String type(Map<String, Object> schema) {
    StringBuilder type = new StringBuilder();
    if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
      type.append("integer or string");
    } else if ("array".equals(schema.get("type")) && schema.get("items") instanceof Map<?, ?> i) {
      type.append("array of ").append(type(map(i)));
    } else if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      type.append("map of ").append(type(map(values)));
    } else if (Boolean.TRUE.equals(schema.get("x-kubernetes-preserve-unknown-fields"))) {
      type.append(schema.get("type") == null ? "any" : str(schema.get("type")))
          .append(" (any fields)");
    } else {
      type.append(schema.get("type") == null ? "any" : str(schema.get("type")));
    }
    if (schema.get("format") instanceof String format) {
      type.append(" (").append(prose(format)).append(')');
    }
    if (Boolean.TRUE.equals(schema.get("nullable"))) {
      type.append(", nullable");
    }
    List<Object> values = list(schema.get("enum"));
    if (values != null) {
      type.append(" enum: ")
          .append(
              values.stream()
                  .map(v -> code(v instanceof String s ? s : json(v)))
                  .collect(Collectors.joining(", ")));
    }
    return type.toString();
  }

  /** Bounds and rules of a field, including those its list items or map values carry. */
  static List<String> validation(Map<String, Object> schema) {
    List<String> checks = new ArrayList<>();
    if (schema.get("pattern") instanceof String pattern) {
      checks.add("pattern " + code(pattern));
    }
    bound(checks, schema, "minimum", "exclusiveMinimum");
    bound(checks, schema, "maximum", "exclusiveMaximum");
    for (String key :
        List.of(
            "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")) {
      if (schema.get(key) != null) {
        checks.add(key + " " + number(schema.get(key)));
      }
    }
    if (Boolean.TRUE.equals(schema.get("uniqueItems"))) {
      checks.add("unique items");
    }
    if (schema.get("x-kubernetes-list-type") instanceof String listType) {
      List<String> keys = list(schema.get("x-kubernetes-list-map-keys"));
      checks.add(
          "list type "
              + listType
              + (keys == null || keys.isEmpty()
                  ? ""
                  : ", keyed by "
                      + keys.stream().map(ApiReference::code).collect(Collectors.joining(", "))));
    }
    List<Map<String, Object>> rules = list(schema.get("x-kubernetes-validations"));
    if (rules != null) {
      rules.forEach(rule -> checks.add(rule(rule)));
    }
    if (schema.get("items") instanceof Map<?, ?> items) {
      validation(map(items)).forEach(check -> checks.add("each item: " + check));
    }
    if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      validation(map(values)).forEach(check -> checks.add("each value: " + check));
    }
    return checks;
  }

  private static void bound(
      List<String> checks, Map<String, Object> schema, String key, String exclusiveKey) {
    if (schema.get(key) != null) {
      checks.add(
          key
              + " "
              + number(schema.get(key))
              + (Boolean.TRUE.equals(schema.get(exclusiveKey)) ? " (exclusive)" : ""));
    }
  }

  private static String rule(Map<String, Object> rule) {
    StringBuilder text = new StringBuilder("CEL ").append(code(str(rule.get("rule"))));
    if (rule.get("message") instanceof String message && !message.isBlank()) {
      text.append(" — \"").append(prose(message)).append('"');
    } else if (rule.get("messageExpression") instanceof String expression) {
      text.append(" — message from ").append(code(expression));
    }
    if (rule.get("reason") instanceof String reason) {
      text.append(" (reason ").append(code(reason)).append(')');
    }
    if (rule.get("fieldPath") instanceof String fieldPath) {
      text.append(" (reported at ").append(code(fieldPath)).append(')');
    }
    return text.toString();
  }

  /**
   * Text as Markdown that shows literally: a description such as "blobs in
   * &lt;namespace&gt;/&lt;snapshot&gt;" would otherwise vanish as an unknown HTML tag, and a pipe
   * would end the table cell. Underscores inside words (mlx5_vfio_pci) never start emphasis, so
   * they stay unescaped and the source stays readable.
   */
  static String prose(String text) {
    String flat = text.replaceAll("\\s*\\R\\s*", " ").strip();
    Matcher matcher = MARKDOWN_SPECIAL.matcher(flat);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      int at = matcher.start();
      boolean intraword =
          matcher.group().equals("_")
              && at > 0
              && at + 1 < flat.length()
              && Character.isLetterOrDigit(flat.charAt(at - 1))
              && Character.isLetterOrDigit(flat.charAt(at + 1));
      matcher.appendReplacement(
          out, Matcher.quoteReplacement((intraword ? "" : "\\") + matcher.group()));
    }
    matcher.appendTail(out);
    return out.toString();
  }

  /**
   * Text as a code span. Backslashes are literal inside code spans, so only the pipe needs an
   * escape (GFM removes it when splitting the table row); a backtick in the text gets a longer
   * fence.
   */
  static String code(String text) {
    String flat = text.replaceAll("\\s*\\R\\s*", " ").replace("|", "\\|");
    int longestRun = 0;
    Matcher runs = Pattern.compile("`+").matcher(flat);
    while (runs.find()) {
      longestRun = Math.max(longestRun, runs.group().length());
    }
    String fence = "`".repeat(longestRun + 1);
    String pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
    return fence + pad + flat + pad + fence;
  }

  private static String tableHeader(List<String> header) {
    return tableRow(header) + tableRow(header.stream().map(h -> "---").toList());
  }

  private static String tableRow(List<String> cells) {
    return "| " + String.join(" | ", cells) + " |\n";
  }

  /**
   * YAML numbers arrive as doubles (maximum: 1000.0); show them as the schema author wrote them.
   */
  private static String number(Object value) {
    return new BigDecimal(String.valueOf(value)).stripTrailingZeros().toPlainString();
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + value, e);
    }
  }

  /** The page documents one version per kind; a second one needs its own sections first. */
  private static Map<String, Object> onlyVersion(Map<String, Object> crd) {
    List<Map<String, Object>> versions = list(get(crd, "spec", "versions"));
    if (versions == null || versions.size() != 1) {
      throw new IllegalStateException(
          get(crd, "metadata", "name")
              + " has "
              + (versions == null ? 0 : versions.size())
              + " versions; the reference renders exactly one per kind");
    }
    return versions.get(0);
  }

  private static Object get(Map<String, Object> root, String... keys) {
    Object node = root;
    for (String key : keys) {
      node = node instanceof Map<?, ?> m ? m.get(key) : null;
    }
    return node;
  }

  private static String str(Object value) {
    return value == null ? "" : String.valueOf(value);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> list(Object value) {
    return (List<T>) value;
  }
}
