package org.cohortfusion.cohort.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** One column of a table contract as written in data-schemas/. */
@JsonIgnoreProperties({"description"})
public record ContractColumn(
    String name,
    List<String> types,
    boolean required,
    boolean nullable,
    String role,
    boolean finite) {

  public ContractColumn {
    types = types == null ? List.of() : List.copyOf(types);
  }

  public boolean accepts(String sparkType) {
    return types.contains(sparkType);
  }
}
