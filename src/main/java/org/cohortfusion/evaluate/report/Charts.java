package org.cohortfusion.evaluate.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's plots, drawn headless with JFreeChart and encoded as PNG. */
public final class Charts {
  /** Width and height of every chart in pixels. */
  public static final int WIDTH = 800;

  public static final int HEIGHT = 500;

  private Charts() {}

  /**
   * How one line is drawn. A chart with a dozen models in a dozen default colours reads as noise:
   * the few lines the reader compares are drawn bold in colours of Okabe and Ito's
   * colour-blind-safe palette, every other line thin in light grey.
   *
   * @param paint the line's colour
   * @param width the stroke width in pixels
   */
  public record Style(Color paint, float width) {
    /**
     * Okabe–Ito blue, vermillion and bluish green: told apart under the common colour-vision
     * deficiencies.
     */
    public static final Color BLUE = new Color(0x00, 0x72, 0xB2);

    public static final Color VERMILLION = new Color(0xD5, 0x5E, 0x00);
    public static final Color BLUISH_GREEN = new Color(0x00, 0x9E, 0x73);

    /** Width of an emphasised line. */
    public static final float BOLD = 3.5f;

    /** A line drawn for context only. */
    public static final Style BACKGROUND = new Style(new Color(0xC8, 0xC8, 0xC8), 1.0f);

    /** An emphasised line in this colour. */
    public static Style bold(Color paint) {
      return new Style(paint, BOLD);
    }
  }

  /**
   * A named line: x and y values of equal length.
   *
   * @param style how to draw it, or null for JFreeChart's default colour sequence
   */
  public record Line(String name, double[] x, double[] y, Style style) {
    public Line {
      if (x.length != y.length) {
        throw new IllegalArgumentException(
            "Cannot draw line '"
                + name
                + "': "
                + x.length
                + " x values, "
                + y.length
                + " y values");
      }
    }

    /** A line in JFreeChart's default colour sequence. */
    public Line(String name, double[] x, double[] y) {
      this(name, x, y, null);
    }

    /** The same points drawn with {@code style} under {@code label}. */
    public Line styled(String label, Style s) {
      return new Line(label, x, y, s);
    }
  }

  /**
   * Line chart with both axes in [0, 1] (ROC curves, with the chance diagonal; robustness curves).
   * Lines are drawn in list order, the first on top, and the legend lists them in that order.
   */
  public static byte[] lines(
      String title,
      String xLabel,
      String yLabel,
      List<Line> lines,
      boolean chanceDiagonal,
      double xMax) {
    headless();
    XYSeriesCollection data = new XYSeriesCollection();
    for (Line l : lines) {
      XYSeries s = new XYSeries(l.name(), false, true);
      for (int i = 0; i < l.x().length; i++) {
        s.add(l.x()[i], l.y()[i]);
      }
      data.addSeries(s);
    }
    if (chanceDiagonal) {
      XYSeries chance = new XYSeries("chance", false, true);
      chance.add(0, 0);
      chance.add(1, 1);
      data.addSeries(chance);
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    ((NumberAxis) plot.getDomainAxis()).setRange(0, xMax);
    for (int i = 0; i < lines.size(); i++) {
      Style style = lines.get(i).style();
      if (style != null) {
        plot.getRenderer().setSeriesPaint(i, style.paint());
        plot.getRenderer()
            .setSeriesStroke(
                i, new BasicStroke(style.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      }
    }
    // Series 0 is drawn last, so the first (emphasised) lines are not hidden under the grey ones.
    plot.setSeriesRenderingOrder(org.jfree.chart.plot.SeriesRenderingOrder.REVERSE);
    if (chanceDiagonal) {
      ((NumberAxis) plot.getRangeAxis()).setRange(0, 1);
      plot.getRenderer().setSeriesPaint(data.getSeriesCount() - 1, Color.GRAY);
      plot.getRenderer()
          .setSeriesStroke(
              data.getSeriesCount() - 1,
              new BasicStroke(
                  1.0f,
                  BasicStroke.CAP_BUTT,
                  BasicStroke.JOIN_MITER,
                  10.0f,
                  new float[] {4.0f, 4.0f},
                  0.0f));
    } else {
      ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    }
    return png(chart);
  }

  /** Bar chart of one value per category, in the map's order. */
  public static byte[] bars(
      String title, String categoryLabel, String valueLabel, Map<String, ? extends Number> values) {
    headless();
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    values.forEach((k, v) -> data.addValue(v, valueLabel, k));
    JFreeChart chart =
        ChartFactory.createBarChart(
            title,
            categoryLabel,
            valueLabel,
            data,
            PlotOrientation.HORIZONTAL,
            false,
            false,
            false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return png(chart);
  }

  private static byte[] png(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    BufferedImage image = chart.createBufferedImage(WIDTH, HEIGHT);
    try {
      return ChartUtils.encodeAsPNG(image);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot encode chart '" + chart.getTitle().getText() + "' as PNG", e);
    }
  }

  /** Charts are drawn off-screen: no display is needed (or used) on cluster and CI machines. */
  private static void headless() {
    System.setProperty("java.awt.headless", "true");
  }
}
