package org.cohortfusion.cohort.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Optional;

/**
 * The contract of one kind of input table, read at run time from data-schemas/&lt;kind&gt;.json
 * (the single source of truth for the validator and the documentation).
 */
@JsonIgnoreProperties({"title", "description", "reasons"})
public record TableContract(
    String kind,
    List<String> key,
    List<ContractColumn> columns,
    @JsonProperty("other_columns") String otherColumns,
    @JsonProperty("feature_types") List<String> featureTypes,
    @JsonProperty("feature_finite") boolean featureFinite) {

  public TableContract {
    key = key == null ? List.of() : List.copyOf(key);
    columns = columns == null ? List.of() : List.copyOf(columns);
    featureTypes = featureTypes == null ? List.of() : List.copyOf(featureTypes);
  }

  public Optional<ContractColumn> column(String name) {
    return columns.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** Whether columns beyond the declared ones are features (tabular, vector, time series). */
  public boolean extraColumnsAreFeatures() {
    return "features".equals(otherColumns);
  }
}
