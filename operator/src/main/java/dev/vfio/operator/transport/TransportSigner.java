package dev.vfio.operator.transport;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TransportIdentity;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signer {@value TransportIdentity#SIGNER_NAME}: watches the CertificateSigningRequests of that
 * signer and, as {@link CsrReview} decides, approves one (the {@code /approval} subresource) and
 * writes the certificate the CA signed into its {@code /status}, or denies it with a reason. The
 * API server lets only a holder of {@code approve} and {@code sign} on this signer name do either,
 * so an agent cannot approve its own request.
 *
 * <p>Requests are decided one at a time on a thread of the signer's own, off the informer's.
 * Several operator replicas may decide the same request: the API server refuses the second write
 * (409), which changes nothing.
 */
public final class TransportSigner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TransportSigner.class);

  private final KubernetesClient client;
  private final Supplier<TransportAuthority> authority;
  private final CsrReview review;
  private final Clock clock;
  private final ExecutorService decisions =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread thread = new Thread(r, "transport-signer");
            thread.setDaemon(true);
            return thread;
          });
  private SharedIndexInformer<CertificateSigningRequest> informer;

  TransportSigner(
      KubernetesClient client,
      Supplier<TransportAuthority> authority,
      CsrReview review,
      Clock clock) {
    this.client = client;
    this.authority = authority;
    this.review = review;
    this.clock = clock;
  }

  /**
   * @param agentServiceAccount {@code <namespace>/<name>} of the agents' ServiceAccount
   */
  public static TransportSigner start(
      KubernetesClient client,
      Supplier<TransportAuthority> authority,
      String agentServiceAccount,
      Duration validity,
      Clock clock) {
    TransportSigner signer =
        new TransportSigner(client, authority, new CsrReview(agentServiceAccount, validity), clock);
    signer.informer =
        client
            .certificates()
            .v1()
            .certificateSigningRequests()
            .withField("spec.signerName", TransportIdentity.SIGNER_NAME)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(CertificateSigningRequest request) {
                    signer.submit(request);
                  }

                  @Override
                  public void onUpdate(
                      CertificateSigningRequest before, CertificateSigningRequest request) {
                    signer.submit(request);
                  }

                  @Override
                  public void onDelete(CertificateSigningRequest request, boolean unknown) {}
                });
    return signer;
  }

  private void submit(CertificateSigningRequest request) {
    if (!TransportIdentity.SIGNER_NAME.equals(request.getSpec().getSignerName())
        || !pending(request)) {
      return;
    }
    decisions.execute(() -> decideLogged(request.getMetadata().getName()));
  }

  private void decideLogged(String name) {
    try {
      decide(name);
    } catch (KubernetesClientException e) {
      // 409: another replica decided first; anything else: the next update of the request retries.
      LOG.warn("could not decide transport certificate request {}: {}", name, e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("could not decide transport certificate request {}", name, e);
    }
  }

  /** Decides the request as it is now, read again: the informer's copy may be stale. */
  void decide(String name) {
    var resource = client.certificates().v1().certificateSigningRequests().withName(name);
    CertificateSigningRequest request = resource.get();
    if (request == null || !pending(request)) {
      return;
    }
    TransportAuthority signing = authority.get();
    if (signing == null) {
      // The CA Secret is not there yet (cert-manager has not written it); the agent asks again.
      LOG.warn("no transport CA yet to sign certificate request {}", name);
      return;
    }
    CsrReview.Decision decision = review.review(request.getSpec());
    if (decision instanceof CsrReview.Deny deny) {
      LOG.warn("denied transport certificate request {}: {}", name, deny.message());
      resource.deny(condition("Denied", deny.reason(), deny.message()));
      return;
    }
    CsrReview.Sign sign = (CsrReview.Sign) decision;
    CertificateSigningRequest approved =
        approved(request)
            ? request
            : resource.approve(
                condition(
                    "Approved",
                    Reason.AGENT_NODE_VERIFIED,
                    "the agent's token was issued on node " + sign.node()));
    X509Certificate certificate =
        signing.issueAgent(sign.node(), sign.publicKey(), clock.instant(), sign.validity());
    if (approved.getStatus() == null) {
      approved.setStatus(new CertificateSigningRequestStatus());
    }
    approved
        .getStatus()
        .setCertificate(
            Base64.getEncoder()
                .encodeToString(
                    TransportAuthority.pem(certificate).getBytes(StandardCharsets.US_ASCII)));
    client.certificates().v1().certificateSigningRequests().resource(approved).updateStatus();
    LOG.info(
        "signed the transport certificate of node {} (request {}, valid until {})",
        sign.node(),
        name,
        certificate.getNotAfter().toInstant());
  }

  /** Neither denied nor failed, and no certificate yet. */
  static boolean pending(CertificateSigningRequest request) {
    CertificateSigningRequestStatus status = request.getStatus();
    if (status == null) {
      return true;
    }
    if (status.getCertificate() != null && !status.getCertificate().isEmpty()) {
      return false;
    }
    return conditions(request).stream()
        .noneMatch(c -> c.getType().equals("Denied") || c.getType().equals("Failed"));
  }

  private static boolean approved(CertificateSigningRequest request) {
    return conditions(request).stream().anyMatch(c -> c.getType().equals("Approved"));
  }

  private static List<CertificateSigningRequestCondition> conditions(
      CertificateSigningRequest request) {
    return request.getStatus() == null || request.getStatus().getConditions() == null
        ? List.of()
        : request.getStatus().getConditions();
  }

  private CertificateSigningRequestCondition condition(String type, Reason reason, String message) {
    return new CertificateSigningRequestConditionBuilder()
        .withType(type)
        .withStatus("True")
        .withReason(reason.wire())
        .withMessage(message)
        .withLastUpdateTime(clock.instant().toString())
        .build();
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    decisions.shutdownNow();
  }
}
