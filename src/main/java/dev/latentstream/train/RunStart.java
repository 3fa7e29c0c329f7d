package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import java.util.List;

/**
 * What a run is about to do. {@code startStep}/{@code startEpoch} are non-zero after a resume;
 * {@code resumeNote} is null unless the resume had to fall back (to the previous checkpoint), and
 * then says so. {@code engine} is the engine the run computes with, {@code libtorch} or {@code
 * native} (never {@code auto}: what {@code auto} chose).
 */
public record RunStart(
    JobConfig job,
    String device,
    JobConfig.Engine engine,
    long startStep,
    int startEpoch,
    int batchesPerEpoch,
    int trainCount,
    int testCount,
    List<String> classNames,
    List<String> lossTerms,
    String resumeNote) {}
