package dev.vfio.agent.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.List;

/**
 * The pods scheduled to this node, as one watch sees them: what the heartbeat reports device
 * holders from and where a task first looks for its pod, so that neither asks the API server each
 * time. A watch can lag the API server by moments; callers that must not act on a pod the watch has
 * not seen yet ({@link #find}) fall back to a read.
 */
public final class NodePods implements AutoCloseable {
  private final KubernetesClient client;
  private final String nodeName;
  private final SharedIndexInformer<Pod> informer;

  public NodePods(KubernetesClient client, String nodeName) {
    this(
        client,
        nodeName,
        client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0));
  }

  /**
   * With a watch of more pods than the node's: for a test server that ignores the field selector.
   */
  NodePods(KubernetesClient client, String nodeName, SharedIndexInformer<Pod> informer) {
    this.client = client;
    this.nodeName = nodeName;
    this.informer = informer;
  }

  /** Runs {@code handler} on every change from now on; add before {@link #start}. */
  public void onChange(ResourceEventHandler<Pod> handler) {
    informer.addEventHandler(handler);
  }

  /** Starts the watch and returns once the pods that exist now are known. */
  public void start() {
    informer.run();
  }

  /** The pods of this node. */
  public List<Pod> all() {
    // Filtered here too: not every API server implementation honours the field selector.
    return informer.getStore().list().stream()
        .filter(pod -> pod.getSpec() != null && nodeName.equals(pod.getSpec().getNodeName()))
        .toList();
  }

  /**
   * The pod with this name and UID: from the watch when it has it, otherwise from the API server,
   * since the watch may not have seen a pod created moments ago. Null when there is no such pod.
   */
  public Pod find(String namespace, String name, String uid) {
    Pod cached = informer.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name));
    if (cached != null && uid != null && uid.equals(cached.getMetadata().getUid())) {
      return cached;
    }
    return client.pods().inNamespace(namespace).withName(name).get();
  }

  /**
   * The pod with this name as the API server has it now, never from the watch: for a decision the
   * pod's latest word must make. Null when there is none; {@code uid} is the caller's to compare.
   */
  public Pod fromApiServer(String namespace, String name, String uid) {
    return client.pods().inNamespace(namespace).withName(name).get();
  }

  @Override
  public void close() {
    informer.close();
  }
}
