package dev.vfio.agent.pods;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Open files from {@code /proc/PID/fd} links and {@code /proc/PID/fdinfo}. */
final class ProcOpenFiles implements OpenFiles {
  private static final String SYSPATH = "vfio-device-syspath:";
  private final Path procRoot;

  ProcOpenFiles(Path procRoot) {
    this.procRoot = procRoot;
  }

  @Override
  public List<OpenFd> of(int pid) throws IOException {
    Path process = procRoot.resolve(Integer.toString(pid));
    List<OpenFd> files = new ArrayList<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd"))) {
      for (Path entry : fds) {
        int fd = Integer.parseInt(entry.getFileName().toString());
        String link;
        try {
          link = Files.readSymbolicLink(entry).toString();
        } catch (NoSuchFileException e) {
          continue; // closed between listing and reading
        }
        FdTarget target = FdTarget.parse(link);
        String syspath = target instanceof FdTarget.GroupDevice ? syspath(process, fd) : null;
        files.add(new OpenFd(fd, link, target, syspath));
      }
    }
    files.sort(Comparator.comparingInt(OpenFd::fd));
    return files;
  }

  private static String syspath(Path process, int fd) throws IOException {
    try {
      for (String line :
          Files.readAllLines(process.resolve("fdinfo").resolve(Integer.toString(fd)))) {
        if (line.startsWith(SYSPATH)) {
          return line.substring(SYSPATH.length()).trim();
        }
      }
    } catch (NoSuchFileException e) {
      // The fd was closed meanwhile; without fdinfo it is treated as on older kernels.
    }
    return null;
  }
}
