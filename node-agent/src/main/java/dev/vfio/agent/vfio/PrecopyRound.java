package dev.vfio.agent.vfio;

import java.util.Optional;

/**
 * What one PRE_COPY read round got.
 *
 * @param bytes bytes read and handed to the sink in this round
 * @param drained the device had nothing more to offer for now (the temporary end of stream), as
 *     opposed to the round stopping at its byte budget
 * @param remaining {@code VFIO_MIG_GET_PRECOPY_INFO} after the round, where the kernel has it:
 *     initial bytes still due (leave PRE_COPY only once they are 0) and dirty bytes
 */
public record PrecopyRound(long bytes, boolean drained, Optional<PrecopyInfo> remaining) {}
