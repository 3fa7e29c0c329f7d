package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import java.util.List;

/**
 * What a run is about to do. {@code startStep}/{@code startEpoch} are non-zero after a resume;
 * {@code resumeNote} is null unless the resume had to fall back (to the previous checkpoint), and then
 * says so.
 */
public record RunStart(
    JobConfig job,
    String device,
    long startStep,
    int startEpoch,
    int batchesPerEpoch,
    int trainCount,
    int testCount,
    List<String> classNames,
    List<String> lossTerms,
    String resumeNote) {}
