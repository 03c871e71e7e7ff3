package org.cohortfusion.fusion.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cohortfusion.fusion.ops.FusionVertexConf;
import org.cohortfusion.train.PresenceWeightedAveraging;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Presence-weighted averaging's ownership in an end-to-end graph: a modality owns its encoder
 * layers ({@code <m>_<layer>}) and its slice of the fusion vertex's projection, and nothing else.
 * The expected counts come from the layers' own parameter counts and the vertex's sizes.
 */
class EndToEndOwnershipTest {
  @Test
  void encoderLayersAndTheirProjectionBelongToTheirModality() {
    Map<String, Object> when = new LinkedHashMap<>();
    when.put("tab", "embedding");
    when.put("img", "conv1");
    when.put("ts", "embedding");
    FusionCompiler.Compiled c =
        EndToEndFusionTest.compile(when, EndToEndFusionTest.encoders(), false, new Adam(1e-3));
    ComputationGraph g = c.newGraph();
    ComputationGraphConfiguration conf = g.getConfiguration();
    int[] owners = PresenceWeightedAveraging.owners(g);
    String fused =
        conf.getVertices().entrySet().stream()
            .filter(e -> e.getValue() instanceof FusionVertexConf)
            .map(Map.Entry::getKey)
            .findFirst()
            .orElseThrow();
    FusionVertexConf v = (FusionVertexConf) conf.getVertices().get(fused);
    List<String> vertexInputs = conf.getVertexInputs().get(fused);
    long owned = 0;
    for (String m : c.modalities()) {
      long expected = 0;
      int encoderLayers = 0;
      for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
        if (l.conf().getLayer().getLayerName().startsWith(m + "_")) {
          expected += l.numParams();
          encoderLayers++;
        }
      }
      for (int j = 0; j < v.getSizes().length; j++) {
        String in = vertexInputs.get(j);
        if ((in.equals(m) || in.startsWith(m + "_")) && v.isProjected(j)) {
          expected += (long) v.getInputSizes()[j] * v.getSizes()[j] + v.getSizes()[j];
        }
      }
      assertTrue(encoderLayers > 0, m + " has encoder layers in the graph");
      int index = c.modalities().indexOf(m);
      long got = java.util.Arrays.stream(owners).filter(o -> o == index).count();
      assertEquals(expected, got, m + "'s parameters");
      owned += got;
    }
    assertTrue(owned < owners.length, "the attention and head stay shared");
  }
}
