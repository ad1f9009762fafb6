package io.sluice.node.kcl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Logs every call a worker's client makes (successes at DEBUG, failures at INFO with the error), so that a
 * worker's log says which operation of Sluice's DynamoDB or Kinesis API the KCL stumbled on.
 */
final class CallLog implements ExecutionInterceptor {
    private static final Logger log = LoggerFactory.getLogger(CallLog.class);

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        if (log.isDebugEnabled()) {
            log.debug("{} {} -> {}", service(attributes), operation(attributes), context.httpResponse().statusCode());
        }
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        log.info("{} {} failed: {}", service(attributes), operation(attributes), context.exception().toString());
    }

    private static String service(ExecutionAttributes attributes) {
        return attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
    }

    private static String operation(ExecutionAttributes attributes) {
        return attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    }
}
