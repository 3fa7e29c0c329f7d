package dev.latentstream.web;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Debian's Chromium driven by Playwright for Java, with no browser download (the system browser is
 * used). One per test class; pages record console errors so tests can assert there are none.
 */
public final class Chromium implements AutoCloseable {

  static final Path SCREENSHOTS = Path.of("target/screenshots");

  final Playwright playwright;
  final Browser browser;

  public Chromium() {
    playwright =
        Playwright.create(
            new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    browser =
        playwright
            .chromium()
            .launch(
                new BrowserType.LaunchOptions()
                    .setExecutablePath(Path.of("/usr/bin/chromium"))
                    .setHeadless(true)
                    .setArgs(
                        List.of(
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--no-first-run",
                            "--disable-quic",
                            "--disable-sync")));
  }

  /** A fresh page (own context, so no shared session storage) that collects console errors. */
  public Watched open(String url, int width, int height) {
    return open(url, width, height, null);
  }

  /**
   * Opens {@code url} with {@code initScript} (null for none) run before the page's own scripts.
   */
  public Watched open(String url, int width, int height, String initScript) {
    Page page =
        browser
            .newContext(new Browser.NewContextOptions().setViewportSize(width, height))
            .newPage();
    if (initScript != null) {
      page.addInitScript(initScript);
    }
    List<String> errors = new CopyOnWriteArrayList<>();
    page.onConsoleMessage(
        m -> {
          if ("error".equals(m.type())) {
            errors.add(m.text());
          }
        });
    page.onPageError(errors::add);
    page.navigate(url);
    return new Watched(page, errors);
  }

  /**
   * Closing it closes the page's context: a test's pages stop taking frames (and CPU) when it ends.
   */
  public record Watched(Page page, List<String> errors) implements AutoCloseable {
    @Override
    public void close() {
      page.context().close();
    }

    public void screenshot(String name) throws java.io.IOException {
      Files.createDirectories(SCREENSHOTS);
      page.screenshot(
          new Page.ScreenshotOptions()
              .setPath(SCREENSHOTS.resolve(name + ".png"))
              .setFullPage(true));
    }
  }

  @Override
  public void close() {
    browser.close();
    playwright.close();
  }
}
