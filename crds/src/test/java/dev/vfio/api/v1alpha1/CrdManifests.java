package dev.vfio.api.v1alpha1;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * Turns what the Fabric8 generator writes into the manifests we ship. The generator sorts printer
 * columns by JSON path, which would put Age first in kubectl get; we put them in reading order.
 */
final class CrdManifests {
  static final List<String> KINDS =
      List.of("vfiosnapshots", "vfiomigrations", "vfionodetasks", "vfionodes");

  private static final List<String> COLUMN_ORDER =
      List.of("Operation", "Phase", "Stage", "Backend", "Node", "Source", "Target", "Devices",
          "Ready", "Size", "Bytes", "Progress", "Downtime(ms)", "Reason", "Heartbeat", "Age");

  private CrdManifests() {}

  static Path generated(String plural) {
    return Path.of(System.getProperty("vfio.crds.generated"), plural + ".vfio.dev-v1.yml");
  }

  static Path checkedIn(String plural) {
    return Path.of(System.getProperty("vfio.crds.checkedIn"), plural + ".vfio.dev.yaml");
  }

  static String render(String plural) throws IOException {
    CustomResourceDefinition crd =
        Serialization.unmarshal(Files.readString(generated(plural)), CustomResourceDefinition.class);
    crd.getSpec().getVersions().forEach(version -> {
      List<CustomResourceColumnDefinition> columns = version.getAdditionalPrinterColumns();
      columns.sort(Comparator.comparingInt(c -> position(c.getName())));
    });
    return "# Generated from dev.vfio.api.v1alpha1 by the Fabric8 CRD generator; do not edit.\n"
        + "# Regenerate: mvn -pl crds test -Dvfio.crds.update=true\n"
        + Serialization.asYaml(crd);
  }

  private static int position(String column) {
    int index = COLUMN_ORDER.indexOf(column);
    if (index < 0) {
      throw new IllegalStateException("printer column " + column + " has no place in COLUMN_ORDER");
    }
    return index;
  }
}
