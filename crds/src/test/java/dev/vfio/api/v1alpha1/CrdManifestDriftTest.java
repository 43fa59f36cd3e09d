package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The manifests under crds/manifests are what users and the Helm chart install; they must be
 * exactly what the Java model generates. Run with -Dvfio.crds.update=true to rewrite them.
 */
class CrdManifestDriftTest {
  static final java.util.List<String> KINDS = CrdManifests.KINDS;

  @ParameterizedTest
  @FieldSource("KINDS")
  void checkedInManifestMatchesTheJavaModel(String plural) throws Exception {
    String expected = CrdManifests.render(plural);
    Path checkedIn = CrdManifests.checkedIn(plural);
    if (Boolean.getBoolean("vfio.crds.update")) {
      Files.createDirectories(checkedIn.getParent());
      Files.writeString(checkedIn, expected);
    }
    assertEquals(
        expected,
        Files.exists(checkedIn) ? Files.readString(checkedIn) : "",
        checkedIn
            + " differs from the generated CRD: run mvn -pl crds test -Dvfio.crds.update=true");
  }
}
