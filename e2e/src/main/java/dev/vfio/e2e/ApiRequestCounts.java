package dev.vfio.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Counts the requests the API server answered, by caller, verb and resource, and the time it spent
 * answering them — read from the API server's own audit log, so what is counted is what the server
 * saw: what tells an API call the operator or an agent could do without from one the work needs.
 * The caller is the client's User-Agent, which the harness sets per component.
 */
public final class ApiRequestCounts {
  /**
   * One kind of request.
   *
   * @param caller the User-Agent without its version, e.g. {@code vfio-operator} or {@code
   *     vfio-agent}
   * @param verb as the audit log names it: get, list, watch, create, update, patch, delete
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

  /** How many requests of one kind, and how long the server took for them (watches: not timed). */
  public record Tally(long requests, long nanos) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path auditLog;
  private long from;

  ApiRequestCounts(Path auditLog) {
    this.auditLog = auditLog;
  }

  /** The counts since the last {@link #reset}, sorted by kind. */
  public synchronized Map<Kind, Tally> snapshot() {
    Map<Kind, long[]> counts = new HashMap<>();
    Set<String> seen = new HashSet<>();
    try (FileChannel channel = FileChannel.open(auditLog, StandardOpenOption.READ);
        BufferedReader lines =
            new BufferedReader(
                new InputStreamReader(
                    Channels.newInputStream(channel.position(from)), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        JsonNode event = JSON.readTree(line);
        // A watch is logged when its response starts and again when it ends: count it once.
        if (!seen.add(event.path("auditID").asText())) {
          continue;
        }
        long[] tally = counts.computeIfAbsent(kind(event), k -> new long[2]);
        tally[0]++;
        if (event.path("stage").asText().equals("ResponseComplete")
            && !event.path("verb").asText().equals("watch")) {
          tally[1] +=
              Duration.between(
                      Instant.parse(event.path("requestReceivedTimestamp").asText()),
                      Instant.parse(event.path("stageTimestamp").asText()))
                  .toNanos();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the audit log " + auditLog, e);
    }
    Map<Kind, Tally> sorted = new TreeMap<>();
    counts.forEach((kind, tally) -> sorted.put(kind, new Tally(tally[0], tally[1])));
    return sorted;
  }

  /** Counts only requests from now on. */
  public synchronized void reset() {
    try {
      from = Files.size(auditLog);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the audit log " + auditLog, e);
    }
  }

  static Kind kind(JsonNode event) {
    String agent = event.path("userAgent").asText("unknown");
    String caller = agent.replaceAll("/.*", "");
    JsonNode object = event.path("objectRef");
    String resource =
        object.path("resource").asText(event.path("requestURI").asText().replaceAll("\\?.*", ""));
    if (object.hasNonNull("subresource")) {
      resource += "/" + object.path("subresource").asText();
    }
    return new Kind(caller, event.path("verb").asText(), resource);
  }
}
