package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where a Receive task listens for its one stream. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TaskEndpoint extends SchemaObject {
  @JsonPropertyDescription("Address of the receiving agent.")
  private String host;

  @JsonPropertyDescription("TCP port of the TLS listener.")
  private Integer port;

  public String getHost() {
    return host;
  }

  public void setHost(String host) {
    this.host = host;
  }

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }
}
