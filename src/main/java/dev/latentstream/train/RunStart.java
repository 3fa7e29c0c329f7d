package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import java.util.List;

/** What a run is about to do. {@code startStep}/{@code startEpoch} are non-zero after a resume. */
public record RunStart(
    JobConfig job,
    String device,
    long startStep,
    int startEpoch,
    int batchesPerEpoch,
    int trainCount,
    int testCount,
    List<String> classNames,
    List<String> lossTerms) {}
