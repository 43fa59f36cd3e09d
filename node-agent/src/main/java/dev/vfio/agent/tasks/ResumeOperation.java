package dev.vfio.agent.tasks;

import dev.vfio.agent.freeze.Quiescer;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import java.io.IOException;
import java.util.List;

/**
 * {@code Resume}: the source of a migration through storage was saved and left stopped; the load
 * failed, so the source runs again — its devices back to RUNNING with the state they kept, its pod
 * thawed.
 */
public final class ResumeOperation implements NodeOperation {
  private final PodDevices podDevices;
  private final Quiescer quiescer;

  public ResumeOperation(PodDevices podDevices, Quiescer quiescer) {
    this.podDevices = podDevices;
    this.quiescer = quiescer;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure {
    VfioNodeTask task = context.task();
    PodRef pod = podDevices.currentPod(task, Reason.POD_CHANGED);
    context.stage(Stage.Resuming);
    List<DeviceLoad> devices =
        podDevices.open(
            pod,
            task.getSpec().getDevices(),
            FailureClassifier.RESUME,
            (inventory, device, machine) -> new DeviceLoad(inventory, device, machine, context));
    try {
      for (DeviceLoad device : devices) {
        try {
          device.machine().answerPeerDma();
        } catch (IOException e) {
          // resume() below takes this device back by a reset if need be, and reports it.
        }
      }
      for (DeviceLoad device : devices) {
        device.resume();
      }
      quiescer.thaw(pod);
      context.succeed(devices.stream().map(DeviceLoad::result).toList(), null);
    } catch (IOException e) {
      throw FailureClassifier.RESUME.classify(e).in("could not resume pod " + pod);
    } finally {
      PodDevices.closeAll(devices);
    }
  }
}
