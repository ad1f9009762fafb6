package io.sluice.node.api;

import io.sluice.node.auth.Caller;
import io.sluice.node.auth.IdentityDirectory;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.protocol.sts.Sts.GetCallerIdentityRequest;
import io.sluice.protocol.sts.Sts.GetCallerIdentityResponse;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.sluice.node.api.Service.STS;

/**
 * STS, as much as clients ask of it at start: GetCallerIdentity (the KPL calls it and exits when it
 * fails). Like AWS's, it needs no permission: any caller whose signature checks out may ask who it is.
 */
public final class StsService {
    private final NodeSettings settings;
    private final IdentityDirectory directory;

    public StsService(NodeSettings settings, IdentityDirectory directory) {
        this.settings = settings;
        this.directory = directory;
    }

    public List<Operation<?>> operations() {
        return List.of(Operation.of(STS, "GetCallerIdentity", GetCallerIdentityRequest.class, (c, r) -> "*",
                        (c, r, arn) -> CompletableFuture.completedFuture(identity(c)))
                .openToEveryCaller());
    }

    private GetCallerIdentityResponse identity(Caller caller) {
        String userId = caller.root() ? settings.accountId()
                : directory.owner(caller.accessKeyId()).map(o -> o.user().userId()).orElse(caller.accessKeyId());
        return new GetCallerIdentityResponse(userId, settings.accountId(), caller.arn());
    }
}
