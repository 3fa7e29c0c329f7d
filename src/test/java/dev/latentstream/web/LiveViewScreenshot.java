package dev.latentstream.web;

import com.microsoft.playwright.Page;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Saves the README's screenshot ({@code web/docs/live-view.png}) from a running server: opens the
 * page in Debian's Chromium at 1280×900 (the whole page is saved), waits until the loss chart and
 * the four panels are painted, then lets the page settle for a few seconds and saves it. How to
 * refresh the picture is in {@code docs/operations.md} ("The README's screenshot").
 *
 * <pre>./latentstream tool LiveViewScreenshot URL OUT.png</pre>
 */
public final class LiveViewScreenshot {

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: LiveViewScreenshot URL OUT.png");
      System.exit(2);
    }
    try (Chromium chromium = new Chromium();
        var w = chromium.open(args[0], 1280, 900)) {
      Page page = w.page();
      page.setDefaultTimeout(120_000);
      page.waitForFunction(
          "() => window.latentstream && window.latentstream.chart.pointCount() > 5");
      for (String p :
          new String[] {"panel-recon", "panel-samples", "panel-latent", "panel-manifold"}) {
        page.waitForSelector("#" + p + "[data-painted]");
      }
      page.waitForTimeout(5_000);
      Path out = Path.of(args[1]);
      Files.createDirectories(out.toAbsolutePath().getParent());
      page.screenshot(new Page.ScreenshotOptions().setPath(out).setFullPage(true));
      if (!w.errors().isEmpty()) {
        System.err.println("console errors: " + w.errors());
        System.exit(1);
      }
      System.out.println("saved " + out);
    }
  }
}
