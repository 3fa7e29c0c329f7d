package dev.latentstream.gateway;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The page's files: as the build packages them under webroot/ on the classpath, else (a build
 * without the page, e.g. from an IDE) straight from web/ on disk, with uPlot from its WebJar on the
 * classpath.
 *
 * <p>Threads: mounted once per {@link HttpVerticle} instance; Vert.x serves the files.
 */
final class WebPage {

  private static final System.Logger LOG = System.getLogger(WebPage.class.getName());

  /** uPlot's files inside its WebJar (org.webjars.npm:uplot, the version pom.xml names). */
  private static final String UPLOT_WEBJAR = "META-INF/resources/webjars/uplot/1.6.30/dist";

  private WebPage() {}

  static void mount(Router router) {
    if (WebPage.class.getResource("/webroot/index.html") != null) {
      router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
      return;
    }
    Path web = Path.of("web").toAbsolutePath();
    if (!Files.isRegularFile(web.resolve("index.html"))) {
      LOG.log(
          System.Logger.Level.WARNING, "no web page: neither webroot/ on the classpath nor " + web);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "serving the page from " + web);
    router.route("/vendor/*").handler(StaticHandler.create(UPLOT_WEBJAR).setCachingEnabled(false));
    router
        .route("/*")
        .handler(
            StaticHandler.create(FileSystemAccess.ROOT, web.toString()).setCachingEnabled(false));
  }
}
