package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The harness must behave like the API server, or the rule tests built on it prove nothing. Each
 * test pins one Kubernetes behaviour on a small inline schema.
 */
class CrdValidationRulesTest {
  private static final CrdValidationRules RULES =
      CrdValidationRules.forSchema(
          "inline",
          CrdValidationRules.yaml(
              """
          type: object
          properties:
            name:
              type: string
              x-kubernetes-validations:
              - rule: "self.matches('[0-9]')"
                message: has a digit
            ratio:
              type: number
              x-kubernetes-validations:
              - rule: "self / 4.0 == 0.5"
                message: is two
            frozen:
              type: string
              x-kubernetes-validations:
              - rule: "self == oldSelf"
                message: frozen
            ports:
              type: array
              x-kubernetes-list-type: map
              x-kubernetes-list-map-keys: [name]
              items:
                type: object
                properties:
                  name: {type: string}
                  number: {type: integer}
                x-kubernetes-validations:
                - rule: "self.number >= oldSelf.number"
                  message: ports only grow
            labels:
              type: object
              additionalProperties:
                type: string
                x-kubernetes-validations:
                - rule: "self.size() > 0"
            tags:
              type: array
              x-kubernetes-list-type: set
              items: {type: string}
            nameless:
              type: string
              x-kubernetes-validations:
              - rule: "self != 'x'"
                messageExpression: "'is ' + self"
          """));

  @Test
  void matchesIsASearchAsInCelGoNotAFullMatch() {
    assertEquals(List.of(), RULES.createMessages(Map.of("name", "gpu0")));
    assertEquals(List.of("has a digit"), RULES.createMessages(Map.of("name", "gpu")));
  }

  @Test
  void absentAndNullPropertiesAreNotValidated() {
    assertEquals(List.of(), RULES.createMessages(Map.of()));
    assertEquals(List.of(), RULES.createMessages(CrdValidationRules.yaml("name: null")));
  }

  @Test
  void integersInANumberFieldAreDoubles() {
    assertEquals(List.of(), RULES.createMessages(Map.of("ratio", 2)));
  }

  @Test
  void transitionRulesRunOnlyOnUpdateWhenTheOldValueExists() {
    assertEquals(List.of(), RULES.createMessages(Map.of("frozen", "a")));
    assertEquals(List.of(), RULES.updateMessages(Map.of(), Map.of("frozen", "a")));
    assertEquals(
        List.of("frozen"), RULES.updateMessages(Map.of("frozen", "a"), Map.of("frozen", "b")));
  }

  @Test
  void mapListItemsCorrelateWithTheOldItemOfTheSameKey() {
    Map<String, Object> old =
        CrdValidationRules.yaml("ports: [{name: a, number: 5}, {name: b, number: 1}]");
    assertEquals(
        List.of(),
        RULES.updateMessages(
            old,
            CrdValidationRules.yaml(
                "ports: [{name: b, number: 2}, {name: a, number: 5}, {name: c, number: 0}]")));
    assertEquals(
        List.of("ports only grow"),
        RULES.updateMessages(old, CrdValidationRules.yaml("ports: [{name: a, number: 4}]")));
  }

  @Test
  void aRuleThatFailsOnAnUnchangedValueIsRatchetedOnUpdate() {
    assertEquals(List.of("has a digit"), RULES.createMessages(Map.of("name", "gpu")));
    assertEquals(List.of(), RULES.updateMessages(Map.of("name", "gpu"), Map.of("name", "gpu")));
    assertEquals(
        List.of("has a digit"), RULES.updateMessages(Map.of("name", "gpu"), Map.of("name", "cpu")));
  }

  @Test
  void mapValuesAreValidatedAndFailWithTheRuleWhenNoMessageIsGiven() {
    List<CrdValidationRules.Violation> violations =
        RULES.validateCreate(CrdValidationRules.yaml("labels: {team: gpu, owner: ''}"));
    assertEquals(
        List.of(
            new CrdValidationRules.Violation(
                "labels.owner", "self.size() > 0", "failed rule: self.size() > 0")),
        violations);
  }

  @Test
  void aSetListRefusesTheFirstRepeatOfEachItemAsTheServerDoes() {
    assertEquals(
        List.of(
            new CrdValidationRules.Violation(
                "tags[2]", "x-kubernetes-list-type: set", "Duplicate value: \"a\""),
            new CrdValidationRules.Violation(
                "tags[3]", "x-kubernetes-list-type: set", "Duplicate value: \"b\"")),
        RULES.validateCreate(CrdValidationRules.yaml("tags: [a, b, a, b, a]")));
    assertEquals(List.of(), RULES.createMessages(CrdValidationRules.yaml("tags: [a, b]")));
  }

  @Test
  void aSetListThatDidNotChangeIsRatchetedOnUpdate() {
    Map<String, Object> repeated = CrdValidationRules.yaml("tags: [a, a]");
    assertEquals(List.of(), RULES.updateMessages(repeated, repeated));
  }

  @Test
  void messageExpressionIsEvaluatedOnTheFailingValue() {
    assertEquals(List.of("is x"), RULES.createMessages(Map.of("nameless", "x")));
  }

  @Test
  void aSchemaWithARuleThatDoesNotCompileRefusesToValidate() {
    CrdValidationRules broken =
        CrdValidationRules.forSchema(
            "broken",
            CrdValidationRules.yaml(
                """
        type: string
        x-kubernetes-validations:
        - rule: "self.size( > 0"
        """));
    assertEquals(1, broken.compileErrors().size());
    assertThrows(IllegalStateException.class, () -> broken.createMessages(Map.of()));
  }
}
