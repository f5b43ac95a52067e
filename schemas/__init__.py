"""The contract of Schakel: Avro schemas (``avro/<type>/v<N>.avsc``), input validation models
generated from them, pseudonyms, the Confluent wire-format serde, the schema registries, topic
declarations and settings. Depends on nothing else of Schakel."""
