package dev.latentstream.jobs;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.runformat.RunLayout;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;

/**
 * Chunks of a job's run files for a gateway without this node's disk (see {@code RemoteRunFiles}):
 * only the files a run directory serves, at most {@link TrainerCommand.ReadRunFile#MAX_CHUNK} bytes
 * a time. Runs on the trainer verticle's context (a worker: it reads the disk); holds no state.
 */
final class RunFileRelay {

  private RunFileRelay() {}

  static JsonObject read(Job j, TrainerCommand.ReadRunFile f) {
    if (f.name() == null || !RunLayout.servable(f.name())) {
      throw new ReplyError(
          ReplyError.BAD_REQUEST, "not a file a run directory serves: " + f.name());
    }
    if (f.offset() < 0 || f.length() < 1 || f.length() > TrainerCommand.ReadRunFile.MAX_CHUNK) {
      throw new ReplyError(
          ReplyError.BAD_REQUEST,
          "a chunk is 1 to "
              + TrainerCommand.ReadRunFile.MAX_CHUNK
              + " bytes from an offset of 0 or more");
    }
    try (FileChannel ch = FileChannel.open(j.runDir.resolve(f.name()))) {
      long size = ch.size();
      ByteBuffer chunk =
          ByteBuffer.allocate((int) Math.max(0, Math.min(f.length(), size - f.offset())));
      while (chunk.hasRemaining() && ch.read(chunk, f.offset() + chunk.position()) > 0) {
        // a file channel reads until the end of the file or of the buffer
      }
      return new JsonObject()
          .put("size", size)
          .put("bytes", Arrays.copyOf(chunk.array(), chunk.position()));
    } catch (NoSuchFileException e) {
      throw new ReplyError(ReplyError.NOT_FOUND, "job " + j.id + " has no " + f.name() + " yet");
    } catch (IOException e) {
      throw new ReplyError(
          ReplyError.INTERNAL,
          "cannot read " + f.name() + " of job " + j.id + ": " + e.getMessage());
    }
  }
}
