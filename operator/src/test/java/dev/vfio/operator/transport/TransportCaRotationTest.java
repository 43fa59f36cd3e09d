package dev.vfio.operator.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CA rotates, or is replaced under the operator, and agents keep trusting both for a while. */
@EnableKubernetesMockClient(crud = true)
class TransportCaRotationTest {
  private static final String NAMESPACE = "vfio-system";
  private static final String NAME = "vfio-operator-transport";
  private static final Duration CERTIFICATE_LIFE = Duration.ofHours(24);
  private static final Instant START = Instant.now().truncatedTo(ChronoUnit.SECONDS);

  /** Two thirds of the ten years the operator's CA lives, from its backdated start. */
  private static final Instant ROTATION =
      START
          .minus(TransportAuthority.BACKDATE)
          .plus(
              TransportAuthority.CA_VALIDITY
                  .plus(TransportAuthority.BACKDATE)
                  .multipliedBy(2)
                  .dividedBy(3));

  KubernetesClient client;
  private final MovableClock clock = new MovableClock(START);

  @Test
  void beforeTwoThirdsOfItsLifeTheCaStaysAndTheBundleHoldsItAlone() {
    TransportAuthority first = transportCa(false).ensure();
    clock.set(ROTATION.minusSeconds(1));

    assertEquals(first.certificate(), transportCa(false).ensure().certificate());
    assertEquals(List.of(first.certificate()), bundle());
  }

  @Test
  void atTwoThirdsTheCaRotatesAndThePreviousOneIsTrustedForACertificateLife() {
    TransportAuthority first = transportCa(false).ensure();
    clock.set(ROTATION);

    TransportAuthority rotated = transportCa(false).ensure();

    assertNotEquals(first.certificate(), rotated.certificate());
    assertEquals(rotated.certificatePem(), secretPem("tls.crt"), "the new CA signs from now on");
    assertEquals(List.of(rotated.certificate(), first.certificate()), bundle());
    Instant until = ROTATION.plus(CERTIFICATE_LIFE).plus(TransportAuthority.BACKDATE);
    assertEquals(until.toString(), annotation());

    clock.set(until.minusSeconds(1));
    assertEquals(rotated.certificate(), transportCa(false).ensure().certificate());
    assertEquals(List.of(rotated.certificate(), first.certificate()), bundle());
    clock.set(until);
    transportCa(false).ensure();
    assertEquals(List.of(rotated.certificate()), bundle(), "no certificate of it is valid now");
    assertNull(annotation());
  }

  @Test
  void aCaReplacedInTheSecretSignsAtOnceAndThePreviousStaysTrusted() {
    TransportAuthority first = transportCa(false).ensure();
    TransportAuthority replacement = TransportAuthority.create(START);
    replaceSecret(replacement);

    TransportCa ca = transportCa(false);
    ca.ensure();

    assertEquals(replacement.certificate(), ca.current().certificate());
    assertEquals(List.of(replacement.certificate(), first.certificate()), bundle());
  }

  @Test
  void anExternalIssuersSecretIsWaitedForNeverWrittenAndFollowed() {
    TransportCa ca = transportCa(true);

    IllegalStateException waiting = assertThrows(IllegalStateException.class, ca::ensure);
    assertTrue(waiting.getMessage().contains("not written yet"), waiting.getMessage());
    assertTrue(client.secrets().inNamespace(NAMESPACE).list().getItems().isEmpty());
    assertNull(ca.current());

    TransportAuthority issued = TransportAuthority.create(START);
    replaceSecret(issued);
    clock.set(ROTATION);
    ca.ensure();
    assertEquals(issued.certificate(), ca.current().certificate(), "its issuer rotates it, not us");
    assertEquals(issued.certificatePem(), secretPem("tls.crt"));

    TransportAuthority reissued = TransportAuthority.create(ROTATION);
    replaceSecret(reissued);
    ca.ensure();
    assertEquals(reissued.certificate(), ca.current().certificate());
    assertEquals(List.of(reissued.certificate(), issued.certificate()), bundle());
  }

  @Test
  void theWatchPicksUpASecretThatAppearsAndThenChanges() {
    try (TransportCa ca = transportCa(true)) {
      ca.watch(Duration.ofMillis(100));
      TransportAuthority issued = TransportAuthority.create(START);
      replaceSecret(issued);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  ca.current() != null && ca.current().certificate().equals(issued.certificate()));

      TransportAuthority reissued = TransportAuthority.create(START);
      replaceSecret(reissued);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> ca.current().certificate().equals(reissued.certificate()));
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> bundle().equals(List.of(reissued.certificate(), issued.certificate())));
    }
  }

  private TransportCa transportCa(boolean external) {
    return new TransportCa(client, NAMESPACE, NAME, CERTIFICATE_LIFE, external, clock);
  }

  /** Writes the Secret as cert-manager or an admin would. */
  private void replaceSecret(TransportAuthority authority) {
    String certificate = base64(authority.certificatePem());
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(NAME)
            .withNamespace(NAMESPACE)
            .endMetadata()
            .withType("kubernetes.io/tls")
            .withData(
                Map.of(
                    "ca.crt", certificate,
                    "tls.crt", certificate,
                    "tls.key", base64(authority.keyPem())))
            .build();
    client.secrets().inNamespace(NAMESPACE).resource(secret).createOr(s -> s.update());
  }

  private List<X509Certificate> bundle() {
    ConfigMap map = client.configMaps().inNamespace(NAMESPACE).withName(NAME).get();
    return CaBundle.read(map.getData().get("ca.crt"), null).certificates();
  }

  private String annotation() {
    Map<String, String> annotations =
        client
            .configMaps()
            .inNamespace(NAMESPACE)
            .withName(NAME)
            .get()
            .getMetadata()
            .getAnnotations();
    return annotations == null ? null : annotations.get(CaBundle.PREVIOUS_UNTIL);
  }

  private String secretPem(String key) {
    Secret secret = client.secrets().inNamespace(NAMESPACE).withName(NAME).get();
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.US_ASCII);
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    private volatile Instant now;

    MovableClock(Instant now) {
      this.now = now;
    }

    void set(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
