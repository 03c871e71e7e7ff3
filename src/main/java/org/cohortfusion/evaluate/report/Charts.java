package org.cohortfusion.evaluate.report;

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

  /** A named line: x and y values of equal length. */
  public record Line(String name, double[] x, double[] y) {
    public Line {
      if (x.length != y.length) {
        throw new IllegalArgumentException("Cannot draw line '" + name + "': " + x.length + " x values, " + y.length
            + " y values");
      }
    }
  }

  /** Line chart with both axes in [0, 1] (ROC curves, with the chance diagonal; robustness curves). */
  public static byte[] lines(String title, String xLabel, String yLabel, List<Line> lines, boolean chanceDiagonal,
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
    JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true,
        false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    ((NumberAxis) plot.getDomainAxis()).setRange(0, xMax);
    if (chanceDiagonal) {
      ((NumberAxis) plot.getRangeAxis()).setRange(0, 1);
      plot.getRenderer().setSeriesPaint(data.getSeriesCount() - 1, Color.GRAY);
    } else {
      ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    }
    return png(chart);
  }

  /** Bar chart of one value per category, in the map's order. */
  public static byte[] bars(String title, String categoryLabel, String valueLabel, Map<String, ? extends Number> values) {
    headless();
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    values.forEach((k, v) -> data.addValue(v, valueLabel, k));
    JFreeChart chart = ChartFactory.createBarChart(title, categoryLabel, valueLabel, data, PlotOrientation.HORIZONTAL,
        false, false, false);
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
      throw new UncheckedIOException("Cannot encode chart '" + chart.getTitle().getText() + "' as PNG", e);
    }
  }

  /** Charts are drawn off-screen: no display is needed (or used) on cluster and CI machines. */
  private static void headless() {
    System.setProperty("java.awt.headless", "true");
  }
}
