package dev.latentstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.commonmark.ext.gfm.tables.TableBlock;
import org.commonmark.ext.gfm.tables.TableRow;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.ext.heading.anchor.IdGenerator;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.BlockQuote;
import org.commonmark.node.Code;
import org.commonmark.node.CustomBlock;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.HardLineBreak;
import org.commonmark.node.Heading;
import org.commonmark.node.Image;
import org.commonmark.node.IndentedCodeBlock;
import org.commonmark.node.Link;
import org.commonmark.node.ListBlock;
import org.commonmark.node.ListItem;
import org.commonmark.node.Node;
import org.commonmark.node.Paragraph;
import org.commonmark.node.SoftLineBreak;
import org.commonmark.node.Text;
import org.commonmark.parser.Parser;
import org.junit.jupiter.api.Test;

/**
 * The README stays a short front page (two screens, the two set-up commands) and the
 * documentation's relative links lead somewhere: every file and every {@code #anchor} they name
 * exists.
 */
class DocumentationTest {

  /** Two screens. */
  static final int README_MAX_LINES = 120;

  /**
   * Characters a rendered line holds before it wraps (GitHub's README column holds a little more).
   */
  static final int WIDTH = 100;

  static final Parser PARSER =
      Parser.builder().extensions(List.of(TablesExtension.create())).build();

  @Test
  void theReadmeRendersInTwoScreens() throws IOException {
    int lines = renderedLines(parse(Path.of("README.md")));
    assertTrue(
        lines <= README_MAX_LINES,
        "README.md renders in about "
            + lines
            + " lines, more than "
            + README_MAX_LINES
            + ": move the detail to docs/*.md and link it");
  }

  @Test
  void theReadmeGivesExactlyTheTwoSetUpCommands() throws IOException {
    Node readme = parse(Path.of("README.md"));
    FencedCodeBlock block = null;
    boolean inSetUp = false;
    for (Node n = readme.getFirstChild(); n != null && block == null; n = n.getNext()) {
      if (n instanceof Heading h && h.getLevel() == 2) {
        inSetUp = text(h).toLowerCase().startsWith("set-up");
      } else if (inSetUp && n instanceof FencedCodeBlock c) {
        block = c;
      }
    }
    assertTrue(block != null, "README.md has no \"## Set-up\" section with a code block");
    List<String> commands =
        block
            .getLiteral()
            .lines()
            .map(l -> l.replaceFirst("#.*", "").strip())
            .filter(l -> !l.isEmpty())
            .toList();
    assertEquals(List.of("./latentstream serve", "./latentstream test"), commands);
  }

  @Test
  void theReadmeLinksEveryDocument() throws IOException {
    Set<Path> linked = new HashSet<>();
    for (Ref ref : links(Path.of("README.md"))) {
      linked.add(ref.target().normalize());
    }
    try (Stream<Path> docs = Files.list(Path.of("docs"))) {
      for (Path doc : docs.filter(p -> p.toString().endsWith(".md")).toList()) {
        assertTrue(
            linked.contains(doc.toAbsolutePath().normalize()), "README.md does not link " + doc);
      }
    }
  }

  @Test
  void everyRelativeLinkLeadsToAFileAndAnchorThatExist() throws IOException {
    List<Path> files = new ArrayList<>(List.of(Path.of("README.md")));
    try (Stream<Path> docs = Files.list(Path.of("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    Map<Path, Set<String>> anchors = new HashMap<>();
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path file : files) {
      for (Ref ref : links(file)) {
        checked++;
        if (!Files.exists(ref.target())) {
          broken.add(file + ": " + ref.raw() + " (no file " + ref.target() + ")");
        } else if (ref.anchor() != null) {
          if (!ref.target().toString().endsWith(".md")) {
            broken.add(file + ": " + ref.raw() + " (an anchor into a file that is not Markdown)");
          } else if (!anchors
              .computeIfAbsent(ref.target().normalize(), DocumentationTest::anchorsOf)
              .contains(ref.anchor())) {
            broken.add(
                file
                    + ": "
                    + ref.raw()
                    + " (no heading #"
                    + ref.anchor()
                    + " in "
                    + ref.target()
                    + ")");
          }
        }
      }
    }
    assertTrue(checked > 20, "found only " + checked + " relative links: is the parsing broken?");
    assertEquals(List.of(), broken);
  }

  @Test
  void theCheckerSeesAMissingFileAndAMissingAnchor(@org.junit.jupiter.api.io.TempDir Path dir)
      throws IOException {
    Path page = dir.resolve("page.md");
    Files.writeString(
        page,
        "# Page\n\n## A frame's path: `trainer` → browser\n\n"
            + "[ok](page.md#a-frames-path-trainer--browser) [self](#page) [gone](other.md) [no anchor](page.md#nope)"
            + " [web](https://example.org/x.md) `[code](nothere.md)`\n");
    List<Ref> refs = links(page);
    assertEquals(4, refs.size(), refs.toString());
    Set<String> ids = anchorsOf(page);
    assertTrue(ids.contains("a-frames-path-trainer--browser"), ids.toString());
    assertTrue(ids.contains("page"), ids.toString());
    assertTrue(!Files.exists(refs.get(2).target()));
    assertTrue(!ids.contains(refs.get(3).anchor()));
  }

  @Test
  void aLongReadmeCountsAsLong() {
    String para = "word ".repeat(WIDTH * 3 / 5); // three rendered lines
    assertEquals(3, renderedLines(PARSER.parse(para)));
    assertEquals(1 + 1 + 3, renderedLines(PARSER.parse("# Title\n\n```\na\nb\nc\n```\n")));
    assertEquals(3, renderedLines(PARSER.parse("| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n")));
  }

  // --- links ---

  /**
   * A relative link: the file it names (resolved against the linking file) and its anchor, if any.
   */
  record Ref(String raw, Path target, String anchor) {}

  static List<Ref> links(Path file) throws IOException {
    List<Ref> refs = new ArrayList<>();
    Path dir = file.toAbsolutePath().getParent();
    parse(file)
        .accept(
            new AbstractVisitor() {
              @Override
              public void visit(Link link) {
                add(link.getDestination());
                visitChildren(link);
              }

              @Override
              public void visit(Image image) {
                add(image.getDestination());
              }

              private void add(String dest) {
                if (dest.isEmpty() || dest.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                  return; // http:, https:, mailto: ...: not ours to check
                }
                int hash = dest.indexOf('#');
                String path = hash < 0 ? dest : dest.substring(0, hash);
                String anchor =
                    hash < 0
                        ? null
                        : URLDecoder.decode(dest.substring(hash + 1), StandardCharsets.UTF_8);
                Path target =
                    path.isEmpty()
                        ? file.toAbsolutePath()
                        : dir.resolve(URLDecoder.decode(path, StandardCharsets.UTF_8));
                refs.add(new Ref(dest, target.normalize(), anchor));
              }
            });
    return refs;
  }

  /** The anchors GitHub gives a Markdown file's headings. */
  static Set<String> anchorsOf(Path file) {
    Node doc;
    try {
      doc = parse(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    IdGenerator ids = IdGenerator.builder().build();
    Set<String> out = new HashSet<>();
    doc.accept(
        new AbstractVisitor() {
          @Override
          public void visit(Heading heading) {
            out.add(ids.generateId(text(heading)));
          }
        });
    return out;
  }

  // --- rendered length ---

  /**
   * About how many lines a Markdown document takes on screen: a blank line between blocks, wrapped
   * text in paragraphs and list items, a line per code line (code scrolls, it does not wrap) and
   * per table row. Pictures count as one line: they are what the page is for.
   */
  static int renderedLines(Node doc) {
    int lines = 0;
    int blocks = 0;
    for (Node n = doc.getFirstChild(); n != null; n = n.getNext()) {
      lines += blockLines(n, WIDTH);
      blocks++;
    }
    return lines + Math.max(0, blocks - 1);
  }

  static int blockLines(Node n, int width) {
    return switch (n) {
      case Heading h -> wrapped(text(h), width);
      case Paragraph p -> text(p).lines().mapToInt(l -> wrapped(l, width)).sum();
      case FencedCodeBlock c -> (int) c.getLiteral().lines().count();
      case IndentedCodeBlock c -> (int) c.getLiteral().lines().count();
      case ListBlock list -> {
        int sum = 0;
        for (Node item = list.getFirstChild(); item != null; item = item.getNext()) {
          sum += blockLines(item, width - 2);
        }
        yield sum;
      }
      case ListItem item -> children(item, width);
      case BlockQuote q -> children(q, width - 2);
      case TableBlock t -> {
        int rows = 0;
        var v =
            new AbstractVisitor() {
              int count;

              @Override
              public void visit(CustomBlock b) {
                visitChildren(b);
              }

              @Override
              public void visit(org.commonmark.node.CustomNode node) {
                if (node instanceof TableRow) {
                  count++;
                }
                visitChildren(node);
              }
            };
        t.accept(v);
        rows += v.count;
        yield rows;
      }
      default -> 1;
    };
  }

  static int children(Node parent, int width) {
    int sum = 0;
    for (Node c = parent.getFirstChild(); c != null; c = c.getNext()) {
      sum += blockLines(c, width);
    }
    return sum;
  }

  /** Lines a text takes when words wrap at {@code width} characters. */
  static int wrapped(String text, int width) {
    int lines = 1;
    int col = 0;
    for (String word : text.strip().split("\\s+")) {
      int len = word.codePointCount(0, word.length());
      if (col > 0 && col + 1 + len > width) {
        lines++;
        col = len;
      } else {
        col += (col > 0 ? 1 : 0) + len;
      }
    }
    return lines;
  }

  /**
   * A node's text as it renders: link texts, code spans, soft breaks as spaces, hard breaks as
   * lines.
   */
  static String text(Node node) {
    StringBuilder sb = new StringBuilder();
    node.accept(
        new AbstractVisitor() {
          @Override
          public void visit(Text t) {
            sb.append(t.getLiteral());
          }

          @Override
          public void visit(Code c) {
            sb.append(c.getLiteral());
          }

          @Override
          public void visit(SoftLineBreak b) {
            sb.append(' ');
          }

          @Override
          public void visit(HardLineBreak b) {
            sb.append('\n');
          }

          @Override
          public void visit(Image image) {
            sb.append("[picture]");
          }
        });
    return sb.toString();
  }

  static Node parse(Path file) throws IOException {
    return PARSER.parse(Files.readString(file));
  }
}
