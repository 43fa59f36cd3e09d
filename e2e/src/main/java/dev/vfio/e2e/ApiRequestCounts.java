package dev.vfio.e2e;

import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counts the requests the API server answers, by caller, verb and resource, and the time it
 * spent answering them: what tells an API call the operator or an agent could do without from
 * one the work needs. The caller is the client's User-Agent, which the harness sets per component.
 */
public final class ApiRequestCounts extends Dispatcher {
  /** {@code /api/v1/...} or {@code /apis/<group>/<version>/...}, then the rest of the path and the query. */
  private static final Pattern PATH = Pattern.compile("^/(?:api/v1|apis/[^/]+/[^/]+)(/[^?]*)?(?:\\?(.*))?$");

  /**
   * One kind of request.
   *
   * @param caller the User-Agent, e.g. {@code vfio-operator} or {@code vfio-agent}
   * @param verb as the API server's audit log names it: get, list, watch, create, update, patch, delete
   * @param resource the resource, with {@code /status} for the status subresource
   */
  public record Kind(String caller, String verb, String resource) implements Comparable<Kind> {
    @Override
    public int compareTo(Kind other) {
      return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
      return caller + " " + verb + " " + resource;
    }
  }

  /** How many requests of one kind, and how long the server took for them. */
  public record Tally(long requests, long nanos) {}

  private final Dispatcher delegate;
  private final Map<Kind, LongAdder[]> counts = new ConcurrentHashMap<>();

  ApiRequestCounts(Dispatcher delegate) {
    this.delegate = delegate;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    long start = System.nanoTime();
    try {
      return delegate.dispatch(request);
    } finally {
      LongAdder[] tally = counts.computeIfAbsent(kind(request), k -> new LongAdder[] {new LongAdder(), new LongAdder()});
      tally[0].increment();
      tally[1].add(System.nanoTime() - start);
    }
  }

  /** The counts since the last {@link #reset}, sorted by kind. */
  public Map<Kind, Tally> snapshot() {
    Map<Kind, Tally> copy = new TreeMap<>();
    counts.forEach((kind, tally) -> copy.put(kind, new Tally(tally[0].sum(), tally[1].sum())));
    return copy;
  }

  public void reset() {
    counts.clear();
  }

  static Kind kind(RecordedRequest request) {
    String agent = request.getHeader("User-Agent");
    String caller = agent == null ? "unknown" : agent.replaceAll("/.*", "");
    String path = request.getPath() == null ? "" : request.getPath();
    Matcher matcher = PATH.matcher(path);
    if (!matcher.matches()) {
      return new Kind(caller, request.getMethod().toLowerCase(), path.replaceAll("\\?.*", ""));
    }
    String[] segments = matcher.group(1) == null ? new String[0] : matcher.group(1).substring(1).split("/");
    String query = matcher.group(2) == null ? "" : matcher.group(2);
    // namespaces/<ns>/<resource>[/<name>[/<subresource>]] or <resource>[/<name>[/<subresource>]]
    int first = segments.length >= 3 && segments[0].equals("namespaces") ? 2 : 0;
    String resource = segments.length > first ? segments[first] : "";
    boolean named = segments.length > first + 1;
    if (segments.length > first + 2) {
      resource += "/" + segments[first + 2];
    }
    return new Kind(caller, verb(request.getMethod(), named, query), resource);
  }

  private static String verb(String method, boolean named, String query) {
    return switch (method.toUpperCase()) {
      case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> named ? "delete" : "deletecollection";
      default -> method.toLowerCase();
    };
  }

  @Override
  public void shutdown() {
    delegate.shutdown();
  }
}
