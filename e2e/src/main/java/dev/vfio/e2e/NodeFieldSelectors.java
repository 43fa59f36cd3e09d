package dev.vfio.e2e;

import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Gives the mock API server the one field selector it lacks and agents rely on: pods by
 * {@code spec.nodeName}, as every DaemonSet lists "the pods of my node". The mock matches field
 * selectors against metadata only, so the harness, which plays the scheduler, labels each pod
 * with its node, and this dispatcher turns {@code fieldSelector=spec.nodeName=X} into a selector
 * on that label before the CRUD dispatcher sees the request.
 */
final class NodeFieldSelectors extends Dispatcher {
  static final String NODE_LABEL = "e2e.vfio.dev/scheduled-node";
  private static final Pattern PODS = Pattern.compile("^/api/v1/(namespaces/[^/]+/)?pods(\\?.*)?$");
  private static final String REQUIREMENT = "spec.nodeName=";

  private final Dispatcher delegate;

  NodeFieldSelectors(Dispatcher delegate) {
    this.delegate = delegate;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String path = request.getPath();
    if (path == null || !PODS.matcher(path).matches() || !path.contains("fieldSelector=")) {
      return delegate.dispatch(request);
    }
    return delegate.dispatch(new RecordedRequest(request.getHttpVersion(), request.method(),
        rewrite(path), request.getHeaders(), request.getBody()));
  }

  static String rewrite(String path) {
    int query = path.indexOf('?');
    List<String> parameters = new ArrayList<>();
    String node = null;
    for (String parameter : path.substring(query + 1).split("&")) {
      if (!parameter.startsWith("fieldSelector=")) {
        parameters.add(parameter);
        continue;
      }
      List<String> kept = new ArrayList<>();
      for (String requirement : URLDecoder.decode(parameter.substring(14), StandardCharsets.UTF_8).split(",")) {
        if (requirement.startsWith(REQUIREMENT)) {
          node = requirement.substring(REQUIREMENT.length());
        } else {
          kept.add(requirement);
        }
      }
      if (!kept.isEmpty()) {
        parameters.add("fieldSelector=" + URLEncoder.encode(String.join(",", kept), StandardCharsets.UTF_8));
      }
    }
    if (node != null) {
      parameters.add("labelSelector=" + URLEncoder.encode(NODE_LABEL + "=" + node, StandardCharsets.UTF_8));
    }
    return path.substring(0, query) + "?" + String.join("&", parameters);
  }

  @Override
  public void shutdown() {
    delegate.shutdown();
  }
}
