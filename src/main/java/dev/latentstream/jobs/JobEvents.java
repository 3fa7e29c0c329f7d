package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.rundir.RunStatus;
import dev.latentstream.runformat.AtomicFile;
import io.vertx.core.eventbus.EventBus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * What the trainer node says about its jobs outside training itself: status changes and log lines
 * on the event bus, and the {@code status.json} the next server reads. Publishing only enqueues, so
 * any thread may call it; the verticle's context does.
 */
final class JobEvents {

  private final EventBus bus;

  JobEvents(EventBus bus) {
    this.bus = bus;
  }

  void status(Job j) {
    if (j.movedTo != null) {
      return; // another node trains it: its word on the job is the one viewers get
    }
    j.updatedAtMillis = System.currentTimeMillis();
    bus.publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Status(j.num, j.toJson()));
  }

  void log(Job j, String line) {
    bus.publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Log(j.num, line));
  }

  void deleted(Job j) {
    bus.publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Deleted(j.num, j.id));
  }

  /**
   * Writes the job's status where the next server looks; a failure is logged to the job's viewers.
   */
  void writeStatusFile(Job j) {
    if (j.movedTo != null) {
      return; // the run directory is the node's that holds the lease now
    }
    try {
      Files.createDirectories(j.runDir);
      // Whole or not at all: a full disk leaves the last status.json, never half of one.
      AtomicFile.write(
          j.runDir.resolve(RunStatus.FILE),
          j.toJson().encodePrettily().getBytes(StandardCharsets.UTF_8));
    } catch (IOException | UncheckedIOException e) {
      log(j, "cannot write status.json: " + e.getMessage());
    }
  }
}
