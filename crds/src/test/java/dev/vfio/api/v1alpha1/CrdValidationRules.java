package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelExpr.ExprKind.Kind;
import dev.cel.common.navigation.CelNavigableAst;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.NullValue;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * Evaluates the CEL rules ({@code x-kubernetes-validations}) of a checked-in CRD manifest on a
 * candidate object the way the API server does. Our component tests run against the Fabric8 mock
 * API server, which enforces neither the schema nor CEL, so without this a broken rule would only
 * show on a real cluster.
 *
 * <p>Kubernetes semantics honoured: a rule runs only where its value is present (absent and
 * pruned-null values are skipped); transition rules (those that reference {@code oldSelf}) run only
 * on update and only where the old object has a value at the same place; object properties and map
 * values correlate with the old object by name, list items only in {@code x-kubernetes-list-type:
 * map} lists (by their keys); a non-transition rule that fails on a value the update did not change
 * is ignored (validation ratcheting); {@code matches} is an RE2 search; integers are {@code int},
 * {@code type: number} values are {@code double}. Besides CEL, it checks what a list's {@code
 * x-kubernetes-list-type: set} demands (no item twice, reported as the server does: {@code
 * Duplicate value: "…"}).
 *
 * <p>Not the API server: {@code self} is typed {@code dyn} rather than from the schema, so any
 * object can be passed, and type errors the server would catch at CRD creation only show when a
 * rule is evaluated. Libraries: the standard ones plus the extensions that cel-java shares with
 * Kubernetes (strings, cel.bind, optionals, sets). A rule using a Kubernetes-only library
 * (quantity, url, ip, the k8s lists or regex functions) fails to compile here: extend the
 * environment rather than drop the rule.
 */
final class CrdValidationRules {
  private static final ObjectMapper YAML = new YAMLMapper();
  private static final CelOptions OPTIONS =
      CelOptions.current()
          // cel-go, which the API server uses, treats matches() as a search; cel-java's default is
          // a
          // full match. The two only agree on anchored patterns, so ask for the Kubernetes
          // behaviour.
          .enableRegexPartialMatch(true)
          .enableHeterogeneousNumericComparisons(true)
          .build();
  private static final Cel CEL =
      CelFactory.standardCelBuilder()
          .setOptions(OPTIONS)
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .addCompilerLibraries(
              CelExtensions.strings(),
              CelExtensions.bindings(),
              CelExtensions.optional(),
              CelExtensions.sets(OPTIONS))
          .addRuntimeLibraries(
              CelExtensions.strings(), CelExtensions.optional(), CelExtensions.sets(OPTIONS))
          .build();

  /** A rule that failed: where in the object, which rule, and the message a user would see. */
  record Violation(String path, String rule, String message) {}

  /** A rule as the manifest declares it, with the schema node that carries it. */
  record DeclaredRule(
      String schemaPath,
      Map<String, Object> schema,
      String rule,
      String message,
      String messageExpression,
      Map<String, Object> declaration) {}

  private record CompiledRule(
      DeclaredRule declared,
      CelRuntime.Program program,
      CelRuntime.Program messageProgram,
      boolean transition) {}

  private final String source;
  private final Map<String, Object> rootSchema;
  private final Map<Map<String, Object>, List<CompiledRule>> rulesBySchema =
      new IdentityHashMap<>();
  private final List<String> compileErrors = new ArrayList<>();

  private CrdValidationRules(String source, Map<String, Object> rootSchema) {
    this.source = source;
    this.rootSchema = rootSchema;
    for (DeclaredRule declared : declaredRules(rootSchema)) {
      CompiledRule compiled = compile(declared);
      if (compiled != null) {
        rulesBySchema.computeIfAbsent(declared.schema(), s -> new ArrayList<>()).add(compiled);
      }
    }
  }

  /** The rules of the checked-in manifest that defines {@code kind}, e.g. "VfioSnapshot". */
  static CrdValidationRules forKind(String kind) {
    for (String plural : CrdManifests.KINDS) {
      Map<String, Object> crd = readManifest(CrdManifests.checkedIn(plural));
      if (kind.equals(get(crd, "spec", "names", "kind"))) {
        return forManifest(plural);
      }
    }
    throw new IllegalArgumentException("no checked-in manifest defines kind " + kind);
  }

  /** The rules of the checked-in manifest of {@code plural}, e.g. "vfiosnapshots". */
  static CrdValidationRules forManifest(String plural) {
    Path path = CrdManifests.checkedIn(plural);
    Map<String, Object> crd = readManifest(path);
    List<Map<String, Object>> versions = list(get(crd, "spec", "versions"));
    for (Map<String, Object> version : versions) {
      if (VfioSnapshot.VERSION.equals(version.get("name"))) {
        return new CrdValidationRules(
            path.getFileName() + " " + VfioSnapshot.VERSION,
            map(get(version, "schema", "openAPIV3Schema")));
      }
    }
    throw new IllegalStateException(path + " has no version " + VfioSnapshot.VERSION);
  }

  /** Rules of a schema given inline, for testing the harness itself. */
  static CrdValidationRules forSchema(String name, Map<String, Object> openApiSchema) {
    return new CrdValidationRules(name, openApiSchema);
  }

  /** Every rule and messageExpression that cel-java cannot compile, with where it is declared. */
  List<String> compileErrors() {
    return List.copyOf(compileErrors);
  }

  /** Every rule of the manifest, in schema order. */
  List<DeclaredRule> rules() {
    return declaredRules(rootSchema);
  }

  Map<String, Object> openApiSchema() {
    return rootSchema;
  }

  /** Validates {@code object} as the API server does on create. */
  List<Violation> validateCreate(Map<String, ?> object) {
    return validate(object, null);
  }

  /** Validates {@code object} as the API server does on an update from {@code oldObject}. */
  List<Violation> validateUpdate(Map<String, ?> oldObject, Map<String, ?> object) {
    return validate(object, Objects.requireNonNull(oldObject, "oldObject"));
  }

  /** The messages of {@link #validateCreate}, which is what most tests assert on. */
  List<String> createMessages(Map<String, ?> object) {
    return validateCreate(object).stream().map(Violation::message).toList();
  }

  List<String> updateMessages(Map<String, ?> oldObject, Map<String, ?> object) {
    return validateUpdate(oldObject, object).stream().map(Violation::message).toList();
  }

  private List<Violation> validate(Object object, Object oldObject) {
    if (!compileErrors.isEmpty()) {
      throw new IllegalStateException(source + " has rules that do not compile: " + compileErrors);
    }
    List<Violation> violations = new ArrayList<>();
    walk(rootSchema, object, oldObject, "", violations);
    return violations;
  }

  private void walk(
      Map<String, Object> schema,
      Object value,
      Object old,
      String path,
      List<Violation> violations) {
    if (value == null) {
      return;
    }
    for (CompiledRule rule : rulesBySchema.getOrDefault(schema, List.of())) {
      if (rule.transition() && old == null) {
        continue;
      }
      if (!rule.transition() && old != null && toCel(old, schema).equals(toCel(value, schema))) {
        continue;
      }
      evaluate(rule, schema, value, old, path).ifPresent(violations::add);
    }
    if (value instanceof List<?> items
        && "set".equals(schema.get("x-kubernetes-list-type"))
        && !value.equals(old)) {
      duplicates(items, path, violations);
    }
    if (value instanceof Map<?, ?> object) {
      Map<String, Object> properties = map(schema.get("properties"));
      Object additional = schema.get("additionalProperties");
      for (Map.Entry<?, ?> entry : object.entrySet()) {
        String name = String.valueOf(entry.getKey());
        Map<String, Object> child =
            properties != null && properties.containsKey(name)
                ? map(properties.get(name))
                : additional instanceof Map<?, ?> ? map(additional) : null;
        if (child != null) {
          Object oldChild = old instanceof Map<?, ?> oldMap ? oldMap.get(name) : null;
          walk(child, entry.getValue(), oldChild, path + "." + name, violations);
        }
      }
    } else if (value instanceof List<?> items && schema.get("items") instanceof Map<?, ?>) {
      Map<String, Object> itemSchema = map(schema.get("items"));
      for (int i = 0; i < items.size(); i++) {
        Object oldItem = correlatedItem(schema, items.get(i), old);
        walk(itemSchema, items.get(i), oldItem, path + "[" + i + "]", violations);
      }
    }
  }

  /** The server names an item's first repeat, at its index, quoted as Go quotes it. */
  private static void duplicates(List<?> items, String path, List<Violation> violations) {
    for (int i = 0; i < items.size(); i++) {
      Object item = items.get(i);
      if (Collections.frequency(items.subList(0, i), item) == 1) {
        violations.add(
            new Violation(
                path.substring(1) + "[" + i + "]",
                "x-kubernetes-list-type: set",
                "Duplicate value: " + (item instanceof String text ? "\"" + text + "\"" : item)));
      }
    }
  }

  /** Kubernetes pairs list items with old ones only in map lists, by the list's map keys. */
  private static Object correlatedItem(Map<String, Object> schema, Object item, Object old) {
    if (!"map".equals(schema.get("x-kubernetes-list-type"))
        || !(old instanceof List<?> oldItems)
        || !(item instanceof Map<?, ?> itemMap)) {
      return null;
    }
    List<String> keys = list(schema.get("x-kubernetes-list-map-keys"));
    for (Object candidate : oldItems) {
      if (candidate instanceof Map<?, ?> oldMap
          && keys.stream().allMatch(k -> Objects.equals(oldMap.get(k), itemMap.get(k)))) {
        return candidate;
      }
    }
    return null;
  }

  private Optional<Violation> evaluate(
      CompiledRule rule, Map<String, Object> schema, Object value, Object old, String path) {
    Map<String, Object> variables = new HashMap<>();
    variables.put("self", toCel(value, schema));
    if (rule.transition()) {
      variables.put("oldSelf", toCel(old, schema));
    }
    String where = path.isEmpty() ? "<root>" : path.substring(1);
    String expression = rule.declared().rule();
    try {
      Object result = rule.program().eval(variables);
      if (Boolean.TRUE.equals(result)) {
        return Optional.empty();
      }
      if (!(result instanceof Boolean)) {
        return Optional.of(
            new Violation(where, expression, "rule returned " + result + " instead of a bool"));
      }
      return Optional.of(new Violation(where, expression, message(rule, variables)));
    } catch (CelEvaluationException e) {
      return Optional.of(
          new Violation(where, expression, e.getMessage() + " evaluating rule: " + expression));
    }
  }

  /** messageExpression wins when it yields a non-empty string, then message, then the rule. */
  private static String message(CompiledRule rule, Map<String, Object> variables) {
    if (rule.messageProgram() != null) {
      try {
        Object message = rule.messageProgram().eval(variables);
        if (message instanceof String text && !text.isBlank()) {
          return text;
        }
      } catch (CelEvaluationException e) {
        // The API server also falls back to message when messageExpression fails.
      }
    }
    String message = rule.declared().message();
    return message != null && !message.isEmpty()
        ? message
        : "failed rule: " + rule.declared().rule();
  }

  private CompiledRule compile(DeclaredRule declared) {
    if (Boolean.TRUE.equals(declared.declaration().get("optionalOldSelf"))) {
      compileErrors.add(
          declared.schemaPath() + ": optionalOldSelf is not supported by this harness");
      return null;
    }
    CelAbstractSyntaxTree ast =
        compileChecked(declared.schemaPath() + " rule", declared.rule(), CelKind.BOOL);
    CelAbstractSyntaxTree messageAst =
        declared.messageExpression() == null
            ? null
            : compileChecked(
                declared.schemaPath() + " messageExpression",
                declared.messageExpression(),
                CelKind.STRING);
    if (ast == null || (declared.messageExpression() != null && messageAst == null)) {
      return null;
    }
    try {
      boolean transition =
          CelNavigableAst.fromAst(ast)
              .getRoot()
              .allNodes()
              .anyMatch(
                  node ->
                      node.getKind() == Kind.IDENT && node.expr().ident().name().equals("oldSelf"));
      return new CompiledRule(
          declared,
          CEL.createProgram(ast),
          messageAst == null ? null : CEL.createProgram(messageAst),
          transition);
    } catch (CelEvaluationException e) {
      compileErrors.add(declared.schemaPath() + ": " + e.getMessage());
      return null;
    }
  }

  private CelAbstractSyntaxTree compileChecked(String where, String expression, CelKind expected) {
    CelValidationResult result = CEL.compile(expression);
    if (result.hasError()) {
      compileErrors.add(where + " does not compile: " + result.getErrorString());
      return null;
    }
    try {
      CelAbstractSyntaxTree ast = result.getAst();
      CelKind kind = ast.getResultType().kind();
      // self is dyn, so a rule that reads a field can only be typed dyn here; the API server,
      // which knows the schema, would type it precisely and still demand the same result.
      if (kind != expected && kind != CelKind.DYN) {
        compileErrors.add(
            where
                + " yields "
                + ast.getResultType().name()
                + ", not "
                + expected.name().toLowerCase()
                + ": "
                + expression);
        return null;
      }
      return ast;
    } catch (CelValidationException e) {
      compileErrors.add(where + " does not compile: " + e.getMessage());
      return null;
    }
  }

  /** Whether {@code expression}, once parsed and its macros expanded, calls {@code function}. */
  static boolean callsFunction(String expression, String function) {
    try {
      return CelNavigableAst.fromAst(CEL.parse(expression).getAst())
          .getRoot()
          .allNodes()
          .anyMatch(
              node ->
                  node.getKind() == Kind.CALL && node.expr().call().function().equals(function));
    } catch (CelValidationException e) {
      throw new IllegalArgumentException("does not parse: " + expression, e);
    }
  }

  /** Whether {@code expression} iterates a list or map: a macro such as all or exists_one. */
  static boolean iterates(String expression) {
    try {
      return CelNavigableAst.fromAst(CEL.parse(expression).getAst())
          .getRoot()
          .allNodes()
          .anyMatch(node -> node.getKind() == Kind.COMPREHENSION);
    } catch (CelValidationException e) {
      throw new IllegalArgumentException("does not parse: " + expression, e);
    }
  }

  /** Walks the schema in declaration order and lists every x-kubernetes-validations entry. */
  static List<DeclaredRule> declaredRules(Map<String, Object> rootSchema) {
    List<DeclaredRule> rules = new ArrayList<>();
    forEachSchema(
        rootSchema,
        "openAPIV3Schema",
        (schemaPath, schema) -> {
          List<Map<String, Object>> validations = list(schema.get("x-kubernetes-validations"));
          for (int i = 0; validations != null && i < validations.size(); i++) {
            Map<String, Object> v = validations.get(i);
            rules.add(
                new DeclaredRule(
                    schemaPath + ".x-kubernetes-validations[" + i + "]",
                    schema,
                    (String) v.get("rule"),
                    (String) v.get("message"),
                    (String) v.get("messageExpression"),
                    v));
          }
        });
    return rules;
  }

  /** Visits a schema node and every node below it (properties, items, additionalProperties). */
  static void forEachSchema(
      Map<String, Object> schema, String path, BiConsumer<String, Map<String, Object>> visitor) {
    visitor.accept(path, schema);
    Map<String, Object> properties = map(schema.get("properties"));
    if (properties != null) {
      properties.forEach(
          (name, child) -> forEachSchema(map(child), path + ".properties." + name, visitor));
    }
    if (schema.get("items") instanceof Map<?, ?>) {
      forEachSchema(map(schema.get("items")), path + ".items", visitor);
    }
    if (schema.get("additionalProperties") instanceof Map<?, ?>) {
      forEachSchema(
          map(schema.get("additionalProperties")), path + ".additionalProperties", visitor);
    }
  }

  /**
   * Turns a YAML/JSON value into what CEL expects: int as long, number as double, no nulls except
   * where the schema is nullable (the API server prunes the others before validating).
   */
  static Object toCel(Object value, Map<String, Object> schema) {
    if (value == null) {
      return schema != null && Boolean.TRUE.equals(schema.get("nullable"))
          ? NullValue.NULL_VALUE
          : null;
    }
    boolean number = schema != null && "number".equals(schema.get("type"));
    if (value instanceof Map<?, ?> object) {
      Map<String, Object> properties = schema == null ? null : map(schema.get("properties"));
      Object additional = schema == null ? null : schema.get("additionalProperties");
      Map<String, Object> converted = new LinkedHashMap<>();
      object.forEach(
          (k, v) -> {
            String name = String.valueOf(k);
            Map<String, Object> child =
                properties != null && properties.containsKey(name)
                    ? map(properties.get(name))
                    : additional instanceof Map<?, ?> ? map(additional) : null;
            Object celValue = toCel(v, child);
            if (celValue != null) {
              converted.put(name, celValue);
            }
          });
      return converted;
    }
    if (value instanceof List<?> items) {
      Map<String, Object> itemSchema =
          schema != null && schema.get("items") instanceof Map<?, ?>
              ? map(schema.get("items"))
              : null;
      List<Object> converted = new ArrayList<>();
      items.forEach(
          item ->
              converted.add(
                  Objects.requireNonNullElse(toCel(item, itemSchema), NullValue.NULL_VALUE)));
      return converted;
    }
    if (value instanceof Integer
        || value instanceof Long
        || value instanceof Short
        || value instanceof Byte
        || value instanceof BigInteger) {
      long integral = ((Number) value).longValue();
      return number ? (Object) (double) integral : (Object) integral;
    }
    if (value instanceof Float || value instanceof Double || value instanceof BigDecimal) {
      return ((Number) value).doubleValue();
    }
    return value;
  }

  /** Parses one YAML or JSON document into Maps, Lists, Strings, numbers and booleans. */
  static Map<String, Object> yaml(String text) {
    try {
      return YAML.readValue(text, new TypeReference<Map<String, Object>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses every document of a YAML stream, skipping empty ones. */
  static List<Map<String, Object>> yamlDocuments(String text) {
    try (var parser = YAML.createParser(text)) {
      List<Map<String, Object>> documents = new ArrayList<>();
      YAML.readValues(parser, new TypeReference<Map<String, Object>>() {})
          .forEachRemaining(
              document -> {
                if (document != null && !document.isEmpty()) {
                  documents.add(document);
                }
              });
      return documents;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Object> readManifest(Path path) {
    try {
      return yaml(Files.readString(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Object get(Map<String, Object> root, String... keys) {
    Object node = root;
    for (String key : keys) {
      node = node instanceof Map<?, ?> m ? m.get(key) : null;
    }
    return node;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> list(Object value) {
    return (List<T>) value;
  }

  @Override
  public String toString() {
    return "CEL rules of " + source;
  }
}
