package dev.vfio.agent.transport;

import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The peer of a stream presented a transport certificate from the CA, but not one naming the node
 * its task names: another node's agent. Nothing of the task's was sent to it or taken from it.
 */
public final class PeerIdentityException extends SSLPeerUnverifiedException {
  private static final long serialVersionUID = 1L;

  public PeerIdentityException(String message) {
    super(message);
  }
}
