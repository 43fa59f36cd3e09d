package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The chart rendered by native Helm ({@code helm template}) and parsed into Fabric8 model objects,
 * with the look-ups the tests share.
 */
record RenderedChart(List<HasMetadata> objects) {
  static final Path CHART = Path.of(System.getProperty("vfio.chart", "vfio-operator"));
  static final String RELEASE = "vfio-operator";
  static final String NAMESPACE = "vfio-system";
  static final String POD_IP = "10.244.1.7";
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  /** Renders with the default values. */
  static RenderedChart render() {
    return render(command -> command);
  }

  /** Renders with the values {@code options} adds to the command (files, --set). */
  static RenderedChart render(UnaryOperator<TemplateCommand> options) {
    String yaml = template(options);
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
      if (document.lines().anyMatch(line -> line.startsWith("kind:"))) {
        objects.add(Serialization.unmarshal(document));
      }
    }
    return new RenderedChart(objects);
  }

  /** The rendered YAML; throws IllegalStateException with Helm's message when Helm refuses. */
  static String template(UnaryOperator<TemplateCommand> options) {
    return options
        .apply(new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE))
        .call();
  }

  <T extends HasMetadata> List<T> all(Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> kind, String name) {
    List<T> found = all(kind).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
    assertEquals(
        1,
        found.size(),
        () -> "exactly one " + kind.getSimpleName() + " " + name + " in " + names());
    return found.get(0);
  }

  boolean has(Class<? extends HasMetadata> kind, String name) {
    return all(kind).stream().anyMatch(o -> o.getMetadata().getName().equals(name));
  }

  Deployment operatorDeployment() {
    return one(Deployment.class, RELEASE);
  }

  DaemonSet agentDaemonSet() {
    return one(DaemonSet.class, RELEASE + "-agent");
  }

  private List<String> names() {
    return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
  }

  static Container container(PodSpec pod, String name) {
    return pod.getContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name));
  }

  static Volume volume(PodSpec pod, String name) {
    return pod.getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  /** The mount at {@code path}, which must exist. */
  static VolumeMount mountAt(Container container, String path) {
    return container.getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(path))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("nothing mounted at " + path + " in " + container.getName()));
  }

  static boolean mounts(Container container, String path) {
    return container.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals(path));
  }

  /**
   * The container's environment as the process sees it, with the downward API resolved the way the
   * kubelet would for a pod on {@code node} in {@link #NAMESPACE}.
   */
  static Map<String, String> environment(Container container, String node) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar variable : container.getEnv()) {
      String value = variable.getValue();
      if (variable.getValueFrom() != null) {
        String field = variable.getValueFrom().getFieldRef().getFieldPath();
        value =
            switch (field) {
              case "spec.nodeName" -> node;
              case "status.podIP" -> POD_IP;
              case "metadata.namespace" -> NAMESPACE;
              default -> throw new AssertionError("unexpected field reference " + field);
            };
      }
      env.put(variable.getName(), value == null ? "" : value);
    }
    return env;
  }
}
